package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

// Append attempts. Each lost attempt means another writer extended the
// chain, so n writers at once all succeed within n attempts.
const (
	maxAttempts = 10
	backoffStep = 50 * time.Millisecond
)

// errTaken means another writer took the sequence number first.
var errTaken = errors.New("sequence number taken by another writer")

// Written is where a record was stored.
type Written struct {
	Key       string
	Sequence  int64
	SHA256    string
	VersionID string
}

// Append stores rec as the next record of its subject's chain. It sets the
// record's schema, sequence and link to its predecessor; the caller fills in
// the rest. It never overwrites a record: when another writer takes the
// sequence number first, it reads the chain again and takes the next.
func (s *Store) Append(ctx context.Context, rec *Record) (Written, error) {
	if err := CheckSubject(rec.Subject); err != nil {
		return Written{}, fmt.Errorf("writing evidence record: %w", err)
	}

	for attempt := 1; ; attempt++ {
		w, err := s.appendOnce(ctx, rec)
		if !errors.Is(err, errTaken) {
			return w, err
		}
		if attempt == maxAttempts {
			return Written{}, fmt.Errorf("writing evidence record of %s: %d attempts: %w",
				rec.Subject, attempt, err)
		}
		if err := pause(ctx, attempt); err != nil {
			return Written{}, fmt.Errorf("writing evidence record of %s: %w", rec.Subject, err)
		}
	}
}

// appendOnce reads the end of the chain and writes the record after it.
func (s *Store) appendOnce(ctx context.Context, rec *Record) (Written, error) {
	c, err := s.listChain(ctx, rec.Subject)
	if err != nil {
		return Written{}, fmt.Errorf("writing evidence record: %w", err)
	}
	previous, err := s.link(ctx, c)
	if err != nil {
		return Written{}, fmt.Errorf("writing evidence record: %w", err)
	}

	rec.Schema, rec.Sequence, rec.Previous = Schema, c.last+1, previous
	if rec.Steps == nil {
		rec.Steps = []playbook.Step{}
	}
	body, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return Written{}, fmt.Errorf("encoding evidence record of %s: %w", rec.Subject, err)
	}

	return s.put(ctx, Key(rec.Subject, rec.Sequence), rec.Sequence, body)
}

// link names the last record of the chain and hashes its first version. A
// record whose every version is gone is linked with an empty hash, so that
// the chain goes on and Verify reports the gap.
func (s *Store) link(ctx context.Context, c *chain) (*Link, error) {
	if c.last == 0 {
		return nil, nil
	}

	e := c.entries[c.last]
	original := e.original()
	if original == nil {
		return &Link{Key: e.key}, nil
	}

	data, err := s.read(ctx, e.key, original.id)
	if errors.Is(err, errGone) {
		return &Link{Key: e.key}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the previous record: %w", err)
	}

	return &Link{Key: e.key, SHA256: Hash(data)}, nil
}

// put writes a new key, refusing to replace anything already there.
func (s *Store) put(ctx context.Context, key string, seq int64, body []byte) (Written, error) {
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(key),
		Body:              bytes.NewReader(body),
		IfNoneMatch:       aws.String("*"),
		ContentType:       aws.String("application/json"),
		ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256,
	})
	switch code := errorCode(err); {
	case code == "PreconditionFailed" || code == "ConditionalRequestConflict":
		return Written{}, errTaken
	case err != nil:
		return Written{}, fmt.Errorf("writing evidence record s3://%s/%s: %w", s.bucket, key, err)
	}

	return Written{Key: key, Sequence: seq, SHA256: Hash(body),
		VersionID: aws.ToString(out.VersionId)}, nil
}

// pause waits a little longer after each lost attempt, with jitter so that
// competing writers spread out.
func pause(ctx context.Context, attempt int) error {
	wait := time.Duration(attempt)*backoffStep + rand.N(backoffStep)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		return nil
	}
}

// Response returns the record of a response the responder delivered; actor
// is the identity the responder runs as.
func Response(report *playbook.Report, actor string) (*Record, error) {
	f := report.Finding
	state, err := encodeState(report.State)
	if err != nil {
		return nil, err
	}

	return &Record{
		Subject:   SubjectOf(f),
		Kind:      KindResponse,
		Time:      time.Now().UTC(),
		Build:     CurrentBuild("responder"),
		Actor:     actor,
		Account:   f.AccountID,
		Region:    f.Region,
		Resource:  report.Resource,
		FindingID: f.ID,
		Finding:   f.Detail,
		Outcome:   string(report.Outcome),
		Reason:    report.Reason,
		State:     state,
		Steps:     report.Steps(),
	}, nil
}

// encodeState turns a playbook's live state into the record's JSON.
func encodeState(state any) (json.RawMessage, error) {
	if state == nil {
		return nil, nil
	}

	data, err := json.Marshal(state)
	if err != nil {
		return nil, fmt.Errorf("encoding live state for the evidence record: %w", err)
	}

	return data, nil
}
