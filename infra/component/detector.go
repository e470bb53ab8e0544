package component

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/guardduty"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/guardduty-response/guardduty-response/infra/protection"
)

// DetectorArgs configures the region's GuardDuty detector.
type DetectorArgs struct {
	// Existing, when set, is a detector the stack adopts instead of creating
	// one: typically the detector the organisation created in a member.
	Existing *ExistingDetector
	// Frequency is how often GuardDuty republishes updated findings:
	// FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS.
	Frequency string
	// Features are the protection plans to declare, each on or off.
	Features []protection.Feature
	// ManageFeatures is false where the delegated administrator owns the
	// detector's plans, as in a member account; the stack then leaves them.
	//
	// TODO: a management account that the administrator later adds as a
	// member has its plans owned twice, by its stack and the organisation;
	// set adoptDetector there once it is a member.
	ManageFeatures bool
	Tags           map[string]string
}

// ExistingDetector identifies a detector the stack does not own.
type ExistingDetector struct {
	ID  string
	ARN string
}

// Detector is the region's GuardDuty detector and its protection plans.
type Detector struct {
	pulumi.ResourceState

	ID  pulumi.StringOutput
	ARN pulumi.StringOutput
}

// NewDetector creates the detector, or adopts Existing, and declares every
// protection plan on it.
func NewDetector(ctx *pulumi.Context, name string, args DetectorArgs,
	opts ...pulumi.ResourceOption,
) (*Detector, error) {
	if err := args.check(); err != nil {
		return nil, err
	}

	d := &Detector{}
	if err := ctx.RegisterComponentResourceV2(typeToken("Detector"), name, nil, d,
		opts...); err != nil {
		return nil, fmt.Errorf("registering detector %s: %w", name, err)
	}

	if err := d.resolve(ctx, name, args); err != nil {
		return nil, err
	}

	if args.ManageFeatures {
		if err := d.declareFeatures(ctx, name, args.Features); err != nil {
			return nil, err
		}
	}

	err := ctx.RegisterResourceOutputs(d, pulumi.Map{"id": d.ID, "arn": d.ARN})
	if err != nil {
		return nil, fmt.Errorf("registering outputs of detector %s: %w", name, err)
	}

	return d, nil
}

func (a DetectorArgs) check() error {
	if a.Existing != nil && (a.Existing.ID == "" || a.Existing.ARN == "") {
		return fmt.Errorf("detector: an adopted detector needs its id and ARN")
	}
	if a.Existing == nil && a.Frequency == "" {
		return fmt.Errorf("detector: Frequency is required for a new detector")
	}

	return nil
}

// resolve creates the detector unless one is adopted.
func (d *Detector) resolve(ctx *pulumi.Context, name string, args DetectorArgs) error {
	if args.Existing != nil {
		d.ID = pulumi.String(args.Existing.ID).ToStringOutput()
		d.ARN = pulumi.String(args.Existing.ARN).ToStringOutput()
		return nil
	}

	detector, err := guardduty.NewDetector(ctx, name, &guardduty.DetectorArgs{
		Enable:                     pulumi.Bool(true),
		FindingPublishingFrequency: pulumi.String(args.Frequency),
		Tags:                       withTags(args.Tags, nil),
	}, pulumi.Parent(d))
	if err != nil {
		return fmt.Errorf("creating detector %s: %w", name, err)
	}

	d.ID = detector.ID().ToStringOutput()
	d.ARN = detector.Arn

	return nil
}

// declareFeatures adds one DetectorFeature per protection plan.
func (d *Detector) declareFeatures(ctx *pulumi.Context, name string,
	features []protection.Feature,
) error {
	for _, f := range features {
		args := &guardduty.DetectorFeatureArgs{
			DetectorId:               d.ID,
			Name:                     pulumi.String(f.Name),
			Status:                   pulumi.String(status(f.Enabled)),
			AdditionalConfigurations: detectorAgents(f.Agents),
		}
		_, err := guardduty.NewDetectorFeature(ctx, name+"-"+slug(f.Name), args, pulumi.Parent(d))
		if err != nil {
			return fmt.Errorf("declaring feature %s on detector %s: %w", f.Name, name, err)
		}
	}

	return nil
}

func detectorAgents(
	agents []protection.Agent,
) guardduty.DetectorFeatureAdditionalConfigurationArray {
	var out guardduty.DetectorFeatureAdditionalConfigurationArray
	for _, a := range agents {
		out = append(out, guardduty.DetectorFeatureAdditionalConfigurationArgs{
			Name:   pulumi.String(a.Name),
			Status: pulumi.String(status(a.Enabled)),
		})
	}

	return out
}

// status is the feature API's word for on or off.
func status(enabled bool) string {
	if enabled {
		return "ENABLED"
	}

	return "DISABLED"
}
