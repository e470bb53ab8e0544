// Package playbook holds the responses to GuardDuty findings: one playbook
// per kind of resource, each reading the live state of the resource the
// finding names, deciding whether to act, and then acting in independent
// steps that run concurrently and are recorded in a Report.
//
// Every step checks the live state before it changes anything, so that a
// redelivered finding, or the retry of a response that failed part-way, does
// only what is still missing. In dry-run mode, and for GuardDuty's sample
// findings, the same decisions are taken and recorded as planned, and nothing
// is changed.
package playbook
