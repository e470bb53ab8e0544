// Package playbook holds the responses to GuardDuty findings: one playbook
// per kind of resource, each reading the live state of the resource the
// finding names, deciding whether to act, and then acting in independent
// steps that run concurrently and are recorded in a Report.
//
// Instance quarantines an EC2 instance. AccessKey contains the principal a
// credential finding names: IAMUser deactivates the finding's key and denies
// the user everything; Role revokes a role's sessions issued before now;
// the root user and other principals are reported for a person to handle.
// No playbook restricts the principals of Options.Exempt or one tagged
// guardduty-response:protected=true.
//
// Every step checks the live state before it changes anything, so that a
// redelivered finding, or the retry of a response that failed part-way, does
// only what is still missing. In dry-run mode, and for GuardDuty's sample
// findings, the same decisions are taken and recorded as planned, and nothing
// is changed.
package playbook
