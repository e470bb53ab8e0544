package emulator

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// LeaseTable is the name the tests and the demo give the lease table.
const LeaseTable = "guardduty-response-leases"

// CreateLeaseTable creates the table the responder takes its leases from,
// keyed the way the stack creates it.
func CreateLeaseTable(ctx context.Context, cfg aws.Config) error {
	_, err := dynamodb.NewFromConfig(cfg).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(LeaseTable),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("resource"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("resource"), KeyType: types.KeyTypeHash},
		},
	})
	if err != nil {
		return fmt.Errorf("creating lease table: %w", err)
	}

	return nil
}
