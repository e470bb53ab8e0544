// Package stack is the Pulumi program: it reads and checks the stack's
// configuration, looks up what it needs from the account (who is deploying,
// the VPCs of the region, an existing detector), builds the responder, and
// only then creates the components that the stack's role calls for.
//
//	role             creates
//	management       detector, delegated administrator designation
//	delegated-admin  detector, organisation configuration, findings export,
//	                 quarantine groups, notifications, responder, rules
//	standalone       as delegated-admin, without the organisation
//	member           detector (or the organisation's, adopted), quarantine
//	                 groups, the role the administrator's responder assumes
package stack
