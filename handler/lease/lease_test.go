package lease

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

var moto *emulator.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = emulator.StartMoto(context.Background(), emulator.MotoOptions{}); err != nil {
		println("lease tests:", err.Error())
		os.Exit(1)
	}
	code := m.Run()
	moto.Stop()
	os.Exit(code)
}

// newTable resets the emulator and returns a table with a settable clock.
func newTable(t *testing.T) (*Table, *time.Time) {
	t.Helper()
	ctx := t.Context()
	if err := moto.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := moto.Config(emulator.TestAccessKey, emulator.TestSecretKey)
	if err := emulator.CreateLeaseTable(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	table := NewTable(dynamodb.NewFromConfig(cfg), emulator.LeaseTable)
	table.now = func() time.Time { return now }

	return table, &now
}

func TestSecondHolderIsRefusedUntilRelease(t *testing.T) {
	table, now := newTable(t)
	ctx := t.Context()

	first, err := table.Acquire(ctx, "i-1", "f1", now.Add(time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := table.Acquire(ctx, "i-1", "f2", now.Add(time.Minute), 0); !errors.Is(err, ErrHeld) {
		t.Fatalf("second acquire: got %v, want ErrHeld", err)
	}
	if _, err := table.Acquire(ctx, "i-2", "f2", now.Add(time.Minute), 0); err != nil {
		t.Fatalf("another resource's lease: %v", err)
	}

	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := table.Acquire(ctx, "i-1", "f2", now.Add(time.Minute), 0); err != nil {
		t.Errorf("acquire after release: %v", err)
	}
}

func TestExpiredLeaseIsTakenOverAndOldHolderCannotRelease(t *testing.T) {
	table, now := newTable(t)
	ctx := t.Context()

	dead, err := table.Acquire(ctx, "i-1", "f1", now.Add(time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	*now = now.Add(2 * time.Minute)

	next, err := table.Acquire(ctx, "i-1", "f2", now.Add(time.Minute), 0)
	if err != nil {
		t.Fatalf("taking over an expired lease: %v", err)
	}
	if err := dead.Release(ctx); err != nil {
		t.Fatalf("late release by the old holder: %v", err)
	}
	if _, err := table.Acquire(ctx, "i-1", "f3", now.Add(time.Minute), 0); !errors.Is(err, ErrHeld) {
		t.Errorf("the old holder's release freed the new holder's lease: %v", err)
	}
	_ = next
}
