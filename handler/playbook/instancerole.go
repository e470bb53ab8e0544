package playbook

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/guardduty-response/guardduty-response/handler/finding"
)

// StealsInstanceCredentials reports whether an Instance finding's type says
// that the instance's role credentials may have been taken: credential
// access, or the instance metadata service reached through DNS rebinding.
//
// Only these revoke the sessions of the instance's own role. Every other
// Instance finding leaves the role alone: the role is often shared by a whole
// fleet, all of which would lose their credentials until they fetch new ones,
// while the quarantine already takes the instance profile away from the one
// instance, so that its credentials are no longer renewed.
func StealsInstanceCredentials(findingType string) bool {
	return strings.HasPrefix(findingType, "CredentialAccess:") ||
		strings.Contains(findingType, "/MetadataDNSRebind")
}

// implicatedRole returns the role whose sessions an Instance finding
// revokes, and the finding's principal id for it: the role its
// accessKeyDetails name, or for a credential-theft finding the role of the
// instance profile.
func (r *instanceResponse) implicatedRole(ctx context.Context) (name, principalID string,
	err error) {
	if NamesRole(r.finding) {
		k := r.finding.Resource.AccessKey
		if !iamNamePattern.MatchString(k.UserName) {
			return "", "", fmt.Errorf("userName %s is not a role name", quote(k.UserName))
		}
		return k.UserName, k.PrincipalID, nil
	}
	if !StealsInstanceCredentials(r.finding.Type) {
		return "", "", nil
	}

	profile := r.live.tag(TagOriginalProfile)
	if p := r.live.profile; p != nil && p.IamInstanceProfile != nil {
		profile = aws.ToString(p.IamInstanceProfile.Arn)
	}
	if profile == "" {
		return "", "", nil
	}

	name, err = r.profileRole(ctx, profile)

	return name, "", err
}

// profileRole reads the role of an instance profile.
func (r *instanceResponse) profileRole(ctx context.Context, profileARN string) (string, error) {
	profile := profileARN[strings.LastIndex(profileARN, "/")+1:]
	out, err := r.clients.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{
		InstanceProfileName: aws.String(profile),
	})
	if err != nil {
		return "", fmt.Errorf("reading instance profile %s: %w", profile, err)
	}
	if len(out.InstanceProfile.Roles) == 0 {
		return "", nil
	}

	return aws.ToString(out.InstanceProfile.Roles[0].RoleName), nil
}

// revokeRoleSessions revokes the sessions of the role the finding
// implicates, as part of the quarantine.
//
// TODO: it runs only when the quarantine does; for an instance that is gone,
// protected or already quarantined, a credential-theft finding revokes
// nothing, although the role's credentials may be in use elsewhere.
func (r *instanceResponse) revokeRoleSessions(ctx context.Context) {
	name, principalID, err := r.implicatedRole(ctx)
	switch {
	case err != nil:
		r.fail(ctx, actionRevoke, r.id, err)
		return
	case name == "":
		return
	}

	rr := newRoleRevocation(&r.run, r.clients, r.finding, r.opts, name, principalID)
	if err := rr.read(ctx); err != nil {
		r.fail(ctx, actionRevoke, name, err)
		return
	}
	if reason := rr.decline(); reason != "" {
		r.skip(ctx, actionRevoke, name, reason)
		return
	}
	if rr.current() && rr.reported() {
		r.skip(ctx, actionRevoke, name, rr.alreadyReason())
		return
	}

	rr.respond(ctx)
	r.role = rr
}

// plannedRoleActions are the role steps a sample finding would cause.
func plannedRoleActions(f *finding.Finding) []string {
	if NamesRole(f) || StealsInstanceCredentials(f.Type) {
		return []string{actionMarkRole, actionRevoke}
	}

	return nil
}
