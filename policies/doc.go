// Package policies holds the project's IAM policy documents as JSON files and
// embeds them, so that the Pulumi program that deploys the roles and the
// handler that attaches policies at response time use the very same text.
//
//   - responder.json: the response Lambda's own permissions. Every change it
//     makes is limited to the account it runs in through the policy variable
//     ${aws:PrincipalAccount}, so the same text serves every account.
//   - member.json: what the responder may do in a member account through the
//     role it assumes there; the responder's permissions less publishing and
//     entering other accounts.
//   - member-trust.json: who may assume that member role (a template).
//   - deny-all.json: put on a compromised IAM user.
//   - revoke-sessions.json: put on a role to revoke its active sessions (a
//     template of the cut-off time).
//
// Every file is valid JSON with the IAM grammar's shape. Templates carry
// placeholders written as {{NAME}} inside JSON strings; Render fills them and
// refuses to return a document with a placeholder left unfilled. Parse reads
// a document into its statements.
package policies
