// Package evidence keeps the account of every response and every release in
// an S3 bucket, so that what was done can be shown to an auditor and to the
// team that owns the resource, and so that a record removed or altered later
// is found.
//
// # Records and chains
//
// Each response (and each release) writes one JSON Record: the finding, the
// live state read before acting, every step with its AWS request ids, result
// and time, and the build of the program that wrote it. The records about one
// resource form a chain: the record with sequence n is stored at
//
//	records/<subject>/<n, ten digits>.json
//
// and carries the key and the SHA-256 of record n-1. The subject names the
// resource ("123456789012/us-east-1/instance/i-0abc", "123456789012/iam/user/
// alice"); see SubjectOf.
//
// # Writing
//
// A writer lists the versions under its subject, reads the latest record,
// hashes it, and writes record n+1 with If-None-Match: *, which S3 refuses
// when that key exists. Two writers that read the same predecessor both try
// the same key; only one succeeds, and the other starts again from the new
// latest record. So the chain never forks, and no record is ever overwritten
// by a writer of this package. The bucket's Object Lock retention keeps each
// record's first version from being deleted, and its policy refuses any
// PutObject without If-None-Match.
//
// Writers list versions, not keys, so that a record hidden behind a delete
// marker still counts as taken, and they hash the first version of a key, so
// that a later version written by someone else does not become part of the
// chain.
//
// # Verifying
//
// Verify walks the chain of a subject, or of every subject written to in a
// time range, and reports each record that is missing, hidden by a delete
// marker, written more than once, unreadable, or whose hash does not match
// the one its successor holds.
//
// A hash chain cannot show that its last record was removed: nothing comes
// after it. Object Lock is what prevents that.
package evidence
