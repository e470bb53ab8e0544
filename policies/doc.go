// Package policies holds the project's IAM policy documents as JSON files and
// embeds them, so that the Pulumi program that deploys the roles and the
// handler that attaches policies at response time use the very same text.
//
// Every file is valid JSON with the IAM grammar's shape. Templates carry
// placeholders written as {{NAME}} inside JSON strings; Render fills them and
// refuses to return a document with a placeholder left unfilled.
package policies
