// Package release lifts a quarantine of the responder's, for the person
// closing an incident: it reads the resource and the tags and evidence the
// response left, plans the way back, shows it, and on confirmation makes the
// changes one by one and records them in the evidence bucket.
//
// It undoes only what a response of the responder did, refusing resources
// that carry no quarantine of its own. It never reactivates an access key,
// since rotation is the way back for a key that leaked, and it keeps the
// deny-all and session revocation policies while credentials issued before
// the quarantine may still be valid, unless told otherwise.
package release
