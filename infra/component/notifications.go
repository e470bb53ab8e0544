package component

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Service principals that publish to the topic: EventBridge for the notify
// rule, CloudWatch for the alarms.
const (
	eventsService     = "events.amazonaws.com"
	cloudWatchService = "cloudwatch.amazonaws.com"
)

// NotificationsArgs configures the notification topic.
type NotificationsArgs struct {
	AccountID string
	Partition string
	// PublisherRoleARN is the responder's role, which publishes its reports.
	PublisherRoleARN pulumi.StringInput
	Emails           []string
	HTTPSEndpoint    string
	Tags             map[string]string
}

// Notifications is an SNS topic encrypted with a customer key. The key is a
// customer key because the AWS-managed SNS key's policy cannot be changed to
// let EventBridge and CloudWatch use it.
type Notifications struct {
	pulumi.ResourceState

	TopicARN pulumi.StringOutput
	KeyARN   pulumi.StringOutput
}

// NewNotifications creates the key, the topic, its policy and the
// subscriptions.
func NewNotifications(ctx *pulumi.Context, name string, args NotificationsArgs,
	opts ...pulumi.ResourceOption,
) (*Notifications, error) {
	if err := args.check(); err != nil {
		return nil, err
	}

	n := &Notifications{}
	if err := ctx.RegisterComponentResourceV2(typeToken("Notifications"), name, nil, n,
		opts...); err != nil {
		return nil, fmt.Errorf("registering notifications %s: %w", name, err)
	}

	if err := n.build(ctx, name, args); err != nil {
		return nil, fmt.Errorf("building notifications %s: %w", name, err)
	}

	err := ctx.RegisterResourceOutputs(n, pulumi.Map{"topicArn": n.TopicARN, "keyArn": n.KeyARN})
	if err != nil {
		return nil, fmt.Errorf("registering outputs of notifications %s: %w", name, err)
	}

	return n, nil
}

func (a NotificationsArgs) check() error {
	if a.PublisherRoleARN == nil {
		return fmt.Errorf("notifications: PublisherRoleARN is required")
	}

	return required("notifications", map[string]string{
		"AccountID": a.AccountID, "Partition": a.Partition,
	})
}

func (n *Notifications) build(ctx *pulumi.Context, name string, args NotificationsArgs) error {
	parent := pulumi.Parent(n)

	key, err := n.key(ctx, name, args, parent)
	if err != nil {
		return err
	}

	topic, err := sns.NewTopic(ctx, name, &sns.TopicArgs{
		DisplayName:    pulumi.String("GuardDuty response"),
		KmsMasterKeyId: key.Arn,
		Tags:           withTags(args.Tags, nil),
	}, parent)
	if err != nil {
		return fmt.Errorf("creating topic: %w", err)
	}

	if err := n.policy(ctx, name, args, topic, parent); err != nil {
		return err
	}

	if err := n.subscribe(ctx, name, args, topic, parent); err != nil {
		return err
	}

	n.TopicARN = topic.Arn
	n.KeyARN = key.Arn

	return nil
}

func (n *Notifications) key(ctx *pulumi.Context, name string, args NotificationsArgs,
	parent pulumi.ResourceOption,
) (*kms.Key, error) {
	policy := args.PublisherRoleARN.ToStringOutput().ApplyT(func(role string) (string, error) {
		return topicKeyPolicy(args.Partition, args.AccountID, role)
	}).(pulumi.StringOutput)

	return customerKey(ctx, name, "Encrypts the GuardDuty response notification topic", "notifications", policy, args.Tags, parent)
}

// topicKeyPolicy lets the account administer the key, and the publishers
// encrypt messages for the topic with it.
func topicKeyPolicy(partition, account, publisherRole string) (string, error) {
	use := []string{"kms:Decrypt", "kms:GenerateDataKey*"}

	return policyJSON(
		allow("AccountAdministersKey", awsPrincipal(rootARN(partition, account)), "kms:*", "*"),
		allow("ServicesPublishEncrypted",
			map[string][]string{"Service": {eventsService, cloudWatchService}}, use, "*"),
		allow("ResponderPublishesEncrypted", awsPrincipal(publisherRole), use, "*"),
	)
}

func (n *Notifications) policy(ctx *pulumi.Context, name string, args NotificationsArgs,
	topic *sns.Topic, parent pulumi.ResourceOption,
) error {
	policy := pulumi.All(topic.Arn, args.PublisherRoleARN).ApplyT(func(v []any) (string, error) {
		return topicPolicy(args.AccountID, v[0].(string), v[1].(string))
	}).(pulumi.StringOutput)

	_, err := sns.NewTopicPolicy(ctx, name, &sns.TopicPolicyArgs{
		Arn:    topic.Arn,
		Policy: policy,
	}, parent)
	if err != nil {
		return fmt.Errorf("setting topic policy: %w", err)
	}

	return nil
}

// topicPolicy lets EventBridge and CloudWatch publish for this account only,
// lets the responder publish, and refuses publishing over plain HTTP.
func topicPolicy(account, topicARN, publisherRole string) (string, error) {
	services := allow("ServicesPublish",
		map[string][]string{"Service": {eventsService, cloudWatchService}}, "sns:Publish", topicARN)
	services.Condition = sourceAccount(account)

	return policyJSON(
		services,
		allow("ResponderPublishes", awsPrincipal(publisherRole), "sns:Publish", topicARN),
		statement{Sid: "DenyPlainHTTP", Effect: "Deny", Principal: "*", Action: "sns:Publish",
			Resource:  topicARN,
			Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}}},
	)
}

// subscribe adds one subscription per e-mail address and the HTTPS endpoint.
// E-mail subscriptions wait until their owner confirms them.
func (n *Notifications) subscribe(ctx *pulumi.Context, name string, args NotificationsArgs,
	topic *sns.Topic, parent pulumi.ResourceOption,
) error {
	type subscription struct{ suffix, protocol, endpoint string }
	var subs []subscription
	for _, address := range args.Emails {
		subs = append(subs, subscription{"email-" + address, "email", address})
	}
	if args.HTTPSEndpoint != "" {
		subs = append(subs, subscription{"https", "https", args.HTTPSEndpoint})
	}

	for _, sub := range subs {
		_, err := sns.NewTopicSubscription(ctx, name+"-"+sub.suffix, &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String(sub.protocol),
			Endpoint: pulumi.String(sub.endpoint),
		}, parent)
		if err != nil {
			return fmt.Errorf("subscribing %s: %w", sub.endpoint, err)
		}
	}

	return nil
}
