package component

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/guardduty"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/guardduty-response/guardduty-response/infra/protection"
)

// OrganizationArgs configures GuardDuty across an AWS organisation. Set
// AdminAccountID in the management account, or DetectorID in the delegated
// administrator, never both.
type OrganizationArgs struct {
	// AdminAccountID is the account the management account designates as the
	// GuardDuty delegated administrator of this region.
	AdminAccountID string

	// DetectorID is the delegated administrator's detector, which carries
	// the organisation configuration.
	DetectorID pulumi.StringInput
	// AutoEnable is ALL, NEW or NONE: which member accounts GuardDuty and
	// the enabled plans are turned on for.
	AutoEnable string
	Features   []protection.Feature
}

// Organization is the organisation-wide GuardDuty setting of one role.
type Organization struct {
	pulumi.ResourceState
}

// NewOrganization designates the delegated administrator, or configures the
// organisation from it, depending on which args are set.
func NewOrganization(ctx *pulumi.Context, name string, args OrganizationArgs,
	opts ...pulumi.ResourceOption,
) (*Organization, error) {
	if err := args.check(); err != nil {
		return nil, err
	}

	o := &Organization{}
	if err := ctx.RegisterComponentResourceV2(typeToken("Organization"), name, nil, o,
		opts...); err != nil {
		return nil, fmt.Errorf("registering organization %s: %w", name, err)
	}

	var err error
	if args.AdminAccountID != "" {
		err = o.designate(ctx, name, args.AdminAccountID)
	} else {
		err = o.configure(ctx, name, args)
	}
	if err != nil {
		return nil, fmt.Errorf("building organization %s: %w", name, err)
	}

	if err := ctx.RegisterResourceOutputs(o, pulumi.Map{}); err != nil {
		return nil, fmt.Errorf("registering outputs of organization %s: %w", name, err)
	}

	return o, nil
}

func (a OrganizationArgs) check() error {
	if (a.AdminAccountID == "") == (a.DetectorID == nil) {
		return fmt.Errorf("organization: set exactly one of AdminAccountID and DetectorID")
	}
	if a.DetectorID == nil {
		return nil
	}

	switch a.AutoEnable {
	case "ALL", "NEW", "NONE":
		return nil
	default:
		return fmt.Errorf("organization: AutoEnable %q is not ALL, NEW or NONE", a.AutoEnable)
	}
}

func (o *Organization) designate(ctx *pulumi.Context, name, adminAccountID string) error {
	_, err := guardduty.NewOrganizationAdminAccount(ctx, name+"-admin",
		&guardduty.OrganizationAdminAccountArgs{
			AdminAccountId: pulumi.String(adminAccountID),
		}, pulumi.Parent(o))
	if err != nil {
		return fmt.Errorf("designating %s as delegated administrator: %w", adminAccountID, err)
	}

	return nil
}

// configure sets auto-enable and one organisation feature per plan: an
// enabled plan follows AutoEnable, a disabled one is NONE.
func (o *Organization) configure(ctx *pulumi.Context, name string, args OrganizationArgs) error {
	config, err := guardduty.NewOrganizationConfiguration(ctx, name,
		&guardduty.OrganizationConfigurationArgs{
			DetectorId:                    args.DetectorID,
			AutoEnableOrganizationMembers: pulumi.String(args.AutoEnable),
		}, pulumi.Parent(o))
	if err != nil {
		return fmt.Errorf("configuring organization: %w", err)
	}

	for _, f := range args.Features {
		_, err := guardduty.NewOrganizationConfigurationFeature(ctx, name+"-"+slug(f.Name),
			&guardduty.OrganizationConfigurationFeatureArgs{
				DetectorId:               args.DetectorID,
				Name:                     pulumi.String(f.Name),
				AutoEnable:               pulumi.String(autoEnable(f.Enabled, args.AutoEnable)),
				AdditionalConfigurations: organizationAgents(f.Agents, args.AutoEnable),
			}, pulumi.Parent(o), pulumi.DependsOn([]pulumi.Resource{config}))
		if err != nil {
			return fmt.Errorf("configuring organization feature %s: %w", f.Name, err)
		}
	}

	return nil
}

func organizationAgents(
	agents []protection.Agent, mode string,
) guardduty.OrganizationConfigurationFeatureAdditionalConfigurationArray {
	var out guardduty.OrganizationConfigurationFeatureAdditionalConfigurationArray
	for _, a := range agents {
		out = append(out, guardduty.OrganizationConfigurationFeatureAdditionalConfigurationArgs{
			Name:       pulumi.String(a.Name),
			AutoEnable: pulumi.String(autoEnable(a.Enabled, mode)),
		})
	}

	return out
}

func autoEnable(enabled bool, mode string) string {
	if !enabled {
		return "NONE"
	}

	return mode
}
