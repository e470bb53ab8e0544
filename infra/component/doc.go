// Package component holds the Pulumi component resources a stack is made of:
// the GuardDuty detector, the findings export, the organisation settings, the
// quarantine security groups, the notifications, the responder Lambda and
// the EventBridge rules that drive it, and the role a member account offers
// the responder.
//
// Each component follows one shape: an Args struct, a NewX constructor that
// checks its args before registering anything, children parented to the
// component with names derived from its own, and registered outputs. The
// constructors take plain values the stack has already looked up and checked,
// so a component never queries the cloud itself.
package component
