// Package lease makes sure that one response at a time acts on a resource.
//
// Lambda runs concurrent deliveries of the same finding, and findings about
// the same instance, in separate execution environments that share nothing,
// so only state in AWS can stop a second response. A lease is an item in a
// DynamoDB table, created with a conditional write that fails while another
// invocation holds an unexpired lease on the same resource. A lease expires
// on its own when its holder dies, so a later delivery can take over.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of a lease item. The table's partition key is KeyAttribute
// (a string); ExpiresAttribute is also the table's TTL attribute, so that
// DynamoDB removes leases left behind.
const (
	KeyAttribute     = "resource"
	ExpiresAttribute = "expires"
	holderAttribute  = "holder"
	findingAttribute = "finding"
)

// pollInterval is how often a waiting invocation tries again.
const pollInterval = 200 * time.Millisecond

// ErrHeld means another invocation holds the lease.
var ErrHeld = errors.New("another invocation is responding to this resource")

// Table hands out leases from one DynamoDB table.
type Table struct {
	client *dynamodb.Client
	name   string
	now    func() time.Time
}

// NewTable returns leases kept in the named table.
func NewTable(client *dynamodb.Client, name string) *Table {
	return &Table{client: client, name: name, now: time.Now}
}

// Lease is held on one resource until Release or expiry.
type Lease struct {
	table  *Table
	key    string
	holder string
}

// Acquire takes the lease on key until the given time, waiting up to wait
// for another holder to release it. It returns ErrHeld when the wait ends
// with the lease still held.
func (t *Table) Acquire(ctx context.Context, key, findingID string, until time.Time,
	wait time.Duration) (*Lease, error) {
	holder, err := newHolder()
	if err != nil {
		return nil, err
	}

	deadline := t.now().Add(wait)
	for {
		err := t.put(ctx, key, holder, findingID, until)
		if err == nil {
			return &Lease{table: t, key: key, holder: holder}, nil
		}
		if !errors.Is(err, ErrHeld) || !t.now().Before(deadline) {
			return nil, err
		}

		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for lease on %s: %w", key, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// put writes the lease item unless an unexpired one is there.
func (t *Table) put(ctx context.Context, key, holder, findingID string, until time.Time) error {
	_, err := t.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(t.name),
		Item: map[string]types.AttributeValue{
			KeyAttribute:     &types.AttributeValueMemberS{Value: key},
			holderAttribute:  &types.AttributeValueMemberS{Value: holder},
			findingAttribute: &types.AttributeValueMemberS{Value: findingID},
			ExpiresAttribute: number(until.Unix()),
		},
		ConditionExpression: aws.String("attribute_not_exists(#key) OR #expires < :now"),
		ExpressionAttributeNames: map[string]string{
			"#key": KeyAttribute, "#expires": ExpiresAttribute,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": number(t.now().Unix()),
		},
	})

	var held *types.ConditionalCheckFailedException
	if errors.As(err, &held) {
		return ErrHeld
	}
	if err != nil {
		return fmt.Errorf("taking lease on %s: %w", key, err)
	}

	return nil
}

// Release gives the lease up, unless it has meanwhile passed to another
// holder after expiring.
func (l *Lease) Release(ctx context.Context) error {
	_, err := l.table.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           aws.String(l.table.name),
		Key:                 map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: l.key}},
		ConditionExpression: aws.String("#holder = :me"),
		ExpressionAttributeNames: map[string]string{
			"#holder": holderAttribute,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":me": &types.AttributeValueMemberS{Value: l.holder},
		},
	})

	var gone *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("releasing lease on %s: %w", l.key, err)
	}

	return nil
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// newHolder returns a random token naming this invocation.
func newHolder() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making lease holder token: %w", err)
	}

	return hex.EncodeToString(b), nil
}
