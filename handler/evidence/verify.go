package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Problem is one thing wrong with a chain.
type Problem struct {
	Sequence int64  `json:"sequence,omitempty"`
	Key      string `json:"key"`
	What     string `json:"what"`
}

// ChainReport is what walking one chain found.
type ChainReport struct {
	Subject string `json:"subject"`
	// Records is how many records were read.
	Records int `json:"records"`
	// Last is the highest sequence number under the subject.
	Last int64 `json:"last"`
	// First and Latest are the times the first and last records read say
	// they were written.
	First    time.Time `json:"first,omitzero"`
	Latest   time.Time `json:"latest,omitzero"`
	Problems []Problem `json:"problems"`
}

// Whole reports whether the chain has no problem.
func (r ChainReport) Whole() bool { return len(r.Problems) == 0 }

// Verify walks the chain of subject from its first record to its last.
func (s *Store) Verify(ctx context.Context, subject string) (ChainReport, error) {
	if err := CheckSubject(subject); err != nil {
		return ChainReport{}, fmt.Errorf("verifying: %w", err)
	}

	c, err := s.listChain(ctx, subject)
	if err != nil {
		return ChainReport{}, fmt.Errorf("verifying %s: %w", subject, err)
	}

	v := &verifier{store: s, chain: c, report: ChainReport{Subject: subject, Last: c.last,
		Problems: []Problem{}}}
	for _, key := range c.stray {
		v.problem(0, key, "not a record key; something other than this tool wrote here")
	}
	for seq := int64(1); seq <= c.last; seq++ {
		if err := v.check(ctx, seq); err != nil {
			return ChainReport{}, fmt.Errorf("verifying %s: %w", subject, err)
		}
	}

	return v.report, nil
}

// VerifyRange walks, from first record to last, the chain of every subject
// that was written to (or had a record hidden) between from and to.
func (s *Store) VerifyRange(ctx context.Context, from, to time.Time) ([]ChainReport, error) {
	if to.Before(from) {
		return nil, fmt.Errorf("verifying: the range ends (%s) before it starts (%s)",
			to.Format(time.RFC3339), from.Format(time.RFC3339))
	}

	subjects, err := s.subjectsWritten(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("verifying: %w", err)
	}

	reports := make([]ChainReport, 0, len(subjects))
	for _, subject := range subjects {
		r, err := s.Verify(ctx, subject)
		if err != nil {
			return nil, err
		}
		reports = append(reports, r)
	}

	return reports, nil
}

// subjectsWritten lists, sorted, the subjects with a version or a delete
// marker stored between from and to. S3 sets these times itself.
//
// TODO: this lists every version in the bucket; past millions of records a
// per-day index of the subjects written would keep a range check fast.
func (s *Store) subjectsWritten(ctx context.Context, from, to time.Time) ([]string, error) {
	seen := map[string]bool{}
	err := s.listVersions(ctx, KeyPrefix, func(key string, v version, _, _ bool) {
		subject, _, ok := parseKey(key)
		if !ok || v.modified.Before(from) || v.modified.After(to) {
			return
		}
		seen[subject] = true
	})
	if err != nil {
		return nil, err
	}

	subjects := make([]string, 0, len(seen))
	for subject := range seen {
		subjects = append(subjects, subject)
	}
	slices.Sort(subjects)

	return subjects, nil
}

// verifier walks one chain, keeping the hash of the last record read.
type verifier struct {
	store    *Store
	chain    *chain
	report   ChainReport
	previous *Link // the record before the one being checked; nil when unknown
}

func (v *verifier) problem(seq int64, key, format string, args ...any) {
	v.report.Problems = append(v.report.Problems,
		Problem{Sequence: seq, Key: key, What: fmt.Sprintf(format, args...)})
}

// check verifies record seq: that it is there, unchanged, readable, and
// linked to the record before it.
func (v *verifier) check(ctx context.Context, seq int64) error {
	key := Key(v.chain.subject, seq)
	e := v.chain.entries[seq]
	original := (*version)(nil)
	if e != nil {
		original = e.original()
	}

	switch {
	case e == nil:
		v.problem(seq, key, "missing: no record was ever found under this key, "+
			"though later ones exist")
	case original == nil:
		v.problem(seq, key, "missing: only delete markers remain under this key")
	}
	if original == nil {
		v.previous = nil
		return nil
	}

	if e.hidden {
		v.problem(seq, key, "hidden behind a delete marker; the record itself is still "+
			"stored as version %s", original.id)
	}

	data, err := v.store.read(ctx, key, original.id)
	if errors.Is(err, errGone) {
		v.problem(seq, key, "missing: listed, but could not be read back")
		v.previous = nil
		return nil
	}
	if err != nil {
		return err
	}

	if err := v.checkRewrites(ctx, e, data); err != nil {
		return err
	}
	v.checkRecord(seq, key, data)
	v.previous = &Link{Key: key, SHA256: Hash(data)}

	return nil
}

// checkRewrites reports versions written over a record after the first.
func (v *verifier) checkRewrites(ctx context.Context, e *entry, original []byte) error {
	for _, later := range e.versions[:len(e.versions)-1] {
		data, err := v.store.read(ctx, e.key, later.id)
		if errors.Is(err, errGone) {
			continue
		}
		if err != nil {
			return err
		}
		if !bytes.Equal(data, original) {
			v.problem(e.sequence, e.key, "altered: version %s, written %s, differs from the "+
				"record as first written", later.id, later.modified.Format(time.RFC3339))
		} else {
			v.problem(e.sequence, e.key, "written again as version %s", later.id)
		}
	}

	return nil
}

// checkRecord decodes a record and checks its place and its link.
func (v *verifier) checkRecord(seq int64, key string, data []byte) {
	var rec Record
	if err := decodeRecord(data, &rec); err != nil {
		v.problem(seq, key, "not a record: %v", err)
		return
	}
	v.count(rec)

	if rec.Subject != v.chain.subject || rec.Sequence != seq {
		v.problem(seq, key, "says it is record %d of %s", rec.Sequence, rec.Subject)
	}

	switch {
	case seq == 1 && rec.Previous != nil:
		v.problem(seq, key, "the first record links to %s", rec.Previous.Key)
	case seq == 1:
	case rec.Previous == nil:
		v.problem(seq, key, "links to no previous record")
	case v.previous == nil:
		// The predecessor is missing and already reported.
	case rec.Previous.Key != v.previous.Key:
		v.problem(seq, key, "links to %s instead of %s", rec.Previous.Key, v.previous.Key)
	case rec.Previous.SHA256 != v.previous.SHA256:
		v.problem(seq-1, v.previous.Key, "altered: its SHA-256 is %s, but record %d, written "+
			"after it, holds %s", v.previous.SHA256, seq, emptyAs(rec.Previous.SHA256, "none"))
	}
}

func (v *verifier) count(rec Record) {
	v.report.Records++
	if v.report.First.IsZero() || rec.Time.Before(v.report.First) {
		v.report.First = rec.Time
	}
	if rec.Time.After(v.report.Latest) {
		v.report.Latest = rec.Time
	}
}

// decodeRecord reads a record strictly: unknown fields mean it was not
// written by this package.
func decodeRecord(data []byte, rec *Record) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(rec); err != nil {
		return err
	}
	if rec.Schema != Schema {
		return fmt.Errorf("schema %d, want %d", rec.Schema, Schema)
	}

	return nil
}

func emptyAs(s, alt string) string {
	if s == "" {
		return alt
	}

	return s
}

// History returns the records of subject in sequence order, each as first
// written, leaving out those that are missing or unreadable (Verify reports
// them).
func (s *Store) History(ctx context.Context, subject string) ([]Record, error) {
	if err := CheckSubject(subject); err != nil {
		return nil, fmt.Errorf("reading history: %w", err)
	}

	c, err := s.listChain(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", subject, err)
	}

	var records []Record
	for seq := int64(1); seq <= c.last; seq++ {
		e := c.entries[seq]
		if e == nil || e.original() == nil {
			continue
		}
		data, err := s.read(ctx, e.key, e.original().id)
		if errors.Is(err, errGone) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading history of %s: %w", subject, err)
		}
		var rec Record
		if decodeRecord(data, &rec) == nil {
			records = append(records, rec)
		}
	}

	return records, nil
}

// Print writes a report for a person: one line per chain, then one per
// problem.
func Print(w io.Writer, reports []ChainReport) error {
	var b strings.Builder
	for _, r := range reports {
		verdict := "whole"
		if !r.Whole() {
			verdict = fmt.Sprintf("BROKEN, %d problems", len(r.Problems))
		}
		fmt.Fprintf(&b, "%s: %d records", r.Subject, r.Records)
		if !r.First.IsZero() {
			fmt.Fprintf(&b, " (%s to %s)", r.First.Format(time.RFC3339),
				r.Latest.Format(time.RFC3339))
		}
		fmt.Fprintf(&b, ", %s\n", verdict)
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %s: %s\n", p.Key, p.What)
		}
	}

	_, err := io.WriteString(w, b.String())

	return err
}
