package emulator

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Inbox is an SNS topic with an SQS queue subscribed to it, standing in for
// the security team's mailbox.
type Inbox struct {
	TopicARN string
	QueueURL string
	sqs      *sqs.Client
}

// Notification is one message as SNS delivered it to the queue.
type Notification struct {
	Subject string
	Message string
}

// NewInbox creates the topic and the queue.
func NewInbox(ctx context.Context, cfg aws.Config, name string) (*Inbox, error) {
	topics, queues := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)

	topic, err := topics.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("creating topic: %w", err)
	}
	queue, err := queues.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("creating queue: %w", err)
	}
	attrs, err := queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return nil, fmt.Errorf("reading queue ARN: %w", err)
	}

	_, err = topics.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes["QueueArn"]),
	})
	if err != nil {
		return nil, fmt.Errorf("subscribing queue: %w", err)
	}

	return &Inbox{TopicARN: aws.ToString(topic.TopicArn), QueueURL: aws.ToString(queue.QueueUrl),
		sqs: queues}, nil
}

// Drain returns every notification waiting in the queue and deletes them.
func (in *Inbox) Drain(ctx context.Context) ([]Notification, error) {
	var all []Notification
	for {
		out, err := in.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(in.QueueURL), MaxNumberOfMessages: 10,
		})
		if err != nil {
			return nil, fmt.Errorf("receiving notifications: %w", err)
		}
		if len(out.Messages) == 0 {
			return all, nil
		}

		for _, m := range out.Messages {
			var n Notification
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &n); err != nil {
				return nil, fmt.Errorf("decoding SNS envelope: %w", err)
			}
			all = append(all, n)
			_, err := in.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{
				QueueUrl: aws.String(in.QueueURL), ReceiptHandle: m.ReceiptHandle,
			})
			if err != nil {
				return nil, fmt.Errorf("deleting notification: %w", err)
			}
		}
	}
}

// profile creates a role and an instance profile for the web instance.
func (b *builder) profile(cfg aws.Config) func(context.Context, *Estate) error {
	return func(ctx context.Context, e *Estate) error {
		client := iam.NewFromConfig(cfg)
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trust),
		}); err != nil {
			return err
		}

		p, err := client.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{
			InstanceProfileName: aws.String("web"),
		})
		if err != nil {
			return err
		}
		if _, err := client.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{
			InstanceProfileName: aws.String("web"), RoleName: aws.String("web"),
		}); err != nil {
			return err
		}
		e.InstanceProfileARN = aws.ToString(p.InstanceProfile.Arn)

		return nil
	}
}
