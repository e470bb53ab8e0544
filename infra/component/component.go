package component

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TagPrefix starts every tag key this project writes.
const TagPrefix = "guardduty-response:"

// typeToken names a component type in the Pulumi state.
func typeToken(kind string) string {
	return "guardduty-response:index:" + kind
}

// withTags returns a copy of base with the extra tags added.
func withTags(base map[string]string, extra map[string]string) pulumi.StringMap {
	all := maps.Clone(base)
	if all == nil {
		all = map[string]string{}
	}
	maps.Copy(all, extra)

	return pulumi.ToStringMap(all)
}

// policyJSON encodes an IAM policy document.
func policyJSON(statements ...statement) (string, error) {
	return encodeJSON(map[string]any{"Version": "2012-10-17", "Statement": statements})
}

// encodeJSON renders v on one line without escaping <, > and &, so that a
// pattern such as [">=", 7] reads the same in a preview as in the console.
func encodeJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("encoding JSON: %w", err)
	}

	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// statement is one IAM policy statement; empty fields are left out.
type statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// allow is an Allow statement.
func allow(sid string, principal, action, resource any) statement {
	return statement{Sid: sid, Effect: "Allow", Principal: principal, Action: action,
		Resource: resource}
}

// service is the principal of an AWS service.
func service(name string) map[string]string {
	return map[string]string{"Service": name}
}

// awsPrincipal is the principal of an IAM identity or account.
func awsPrincipal(arn string) map[string]string {
	return map[string]string{"AWS": arn}
}

// sourceAccount limits a service statement to calls made for account.
func sourceAccount(account string) map[string]any {
	return map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account}}
}

// rootARN is the ARN that stands for the whole account in a policy.
func rootARN(partition, account string) string {
	return fmt.Sprintf("arn:%s:iam::%s:root", partition, account)
}

// required returns an error naming the first empty field of a component's
// args.
func required(component string, fields map[string]string) error {
	for name, value := range fields {
		if value == "" {
			return fmt.Errorf("%s: %s is required", component, name)
		}
	}

	return nil
}

// slug turns an API constant such as S3_DATA_EVENTS into s3-data-events, for
// resource names.
func slug(constant string) string {
	return strings.ToLower(strings.ReplaceAll(constant, "_", "-"))
}

// customerKey creates a customer-managed KMS key that rotates yearly, with
// an alias alias/guardduty-response-<purpose>-… so people can find it.
func customerKey(ctx *pulumi.Context, name, description, purpose string,
	policy pulumi.StringInput, tags map[string]string, parent pulumi.ResourceOption,
) (*kms.Key, error) {
	key, err := kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:       pulumi.String(description),
		EnableKeyRotation: pulumi.Bool(true),
		Policy:            policy,
		Tags:              withTags(tags, nil),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating key: %w", err)
	}

	_, err = kms.NewAlias(ctx, name+"-key", &kms.AliasArgs{
		NamePrefix:  pulumi.String("alias/guardduty-response-" + purpose + "-"),
		TargetKeyId: key.KeyId,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating key alias: %w", err)
	}

	return key, nil
}
