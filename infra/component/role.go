package component

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RoleArgs describes an IAM role with one inline policy.
type RoleArgs struct {
	// RoleName is fixed, not generated, because other accounts' policies
	// name this role.
	RoleName    string
	Description string
	// TrustPolicy says who may assume the role; it may be secret, as it is
	// when it carries an external id.
	TrustPolicy pulumi.StringInput
	// Policy is the role's permissions, a document from package policies.
	Policy string
	Tags   map[string]string
}

// Role is an IAM role whose permissions are one document of package
// policies, so the role grants exactly what the reviewed document says.
type Role struct {
	pulumi.ResourceState

	ARN  pulumi.StringOutput
	Name pulumi.StringOutput
}

// NewRole creates the role and its inline policy.
func NewRole(ctx *pulumi.Context, name string, args RoleArgs,
	opts ...pulumi.ResourceOption,
) (*Role, error) {
	if err := args.check(); err != nil {
		return nil, err
	}

	r := &Role{}
	err := ctx.RegisterComponentResourceV2(typeToken("Role"), name, nil, r, opts...)
	if err != nil {
		return nil, fmt.Errorf("registering role %s: %w", name, err)
	}

	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name:             pulumi.String(args.RoleName),
		Description:      pulumi.String(args.Description),
		AssumeRolePolicy: args.TrustPolicy,
		Tags:             withTags(args.Tags, nil),
	}, pulumi.Parent(r))
	if err != nil {
		return nil, fmt.Errorf("creating role %s: %w", args.RoleName, err)
	}

	_, err = iam.NewRolePolicy(ctx, name+"-permissions", &iam.RolePolicyArgs{
		Role:   role.Name,
		Name:   pulumi.String("permissions"),
		Policy: pulumi.String(args.Policy),
	}, pulumi.Parent(r))
	if err != nil {
		return nil, fmt.Errorf("attaching the policy of role %s: %w", args.RoleName, err)
	}

	r.ARN, r.Name = role.Arn, role.Name
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{"arn": r.ARN, "name": r.Name}); err != nil {
		return nil, fmt.Errorf("registering outputs of role %s: %w", name, err)
	}

	return r, nil
}

func (a RoleArgs) check() error {
	if a.TrustPolicy == nil {
		return fmt.Errorf("role %s: TrustPolicy is required", a.RoleName)
	}
	if !json.Valid([]byte(a.Policy)) {
		return fmt.Errorf("role %s: Policy is not a JSON document", a.RoleName)
	}

	return required("role", map[string]string{"RoleName": a.RoleName})
}

// LambdaTrustPolicy lets the Lambda service assume a role.
const LambdaTrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
	`"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
