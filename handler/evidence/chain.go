package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// maxRecordBytes bounds what is read of one object: a record holds one
// finding and one report, far below this.
const maxRecordBytes = 4 << 20

// Store reads and writes the records of one bucket.
type Store struct {
	client *s3.Client
	bucket string
}

// NewStore returns the store of bucket.
func NewStore(client *s3.Client, bucket string) *Store {
	return &Store{client: client, bucket: bucket}
}

// NewStoreFromConfig returns the store of bucket with a client made from
// cfg. A configured endpoint (an emulator, an S3-compatible store) is
// addressed path-style, as those rarely resolve bucket host names.
func NewStoreFromConfig(cfg aws.Config, bucket string) *Store {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = cfg.BaseEndpoint != nil
	})

	return NewStore(client, bucket)
}

// Bucket is the name of the store's bucket.
func (s *Store) Bucket() string { return s.bucket }

// version is one object version stored under a record key.
type version struct {
	id       string
	modified time.Time
}

// entry is everything the bucket holds under one record key.
type entry struct {
	key      string
	sequence int64
	// versions are the object versions, newest first; the last is the
	// record as first written.
	versions []version
	// hidden is set when the newest thing under the key is a delete marker.
	hidden bool
	// markers are when delete markers were put on the key.
	markers []time.Time
}

// original is the first version written under the key, or nil when every
// version is gone.
func (e *entry) original() *version {
	if len(e.versions) == 0 {
		return nil
	}

	return &e.versions[len(e.versions)-1]
}

// chain is what the bucket holds under one subject.
type chain struct {
	subject string
	entries map[int64]*entry
	stray   []string // keys under the subject that are not record keys
	last    int64    // highest sequence with anything under its key
}

// listChain lists every version and delete marker under a subject.
func (s *Store) listChain(ctx context.Context, subject string) (*chain, error) {
	c := &chain{subject: subject, entries: map[int64]*entry{}}
	add := func(key string, v version, marker, latest bool) {
		sub, seq, ok := parseKey(key)
		if !ok || sub != subject {
			c.stray = append(c.stray, key)
			return
		}
		c.add(key, seq, v, marker, latest)
	}
	err := s.listVersions(ctx, chainPrefix(subject), add)
	if err != nil {
		return nil, err
	}

	return c, nil
}

func (c *chain) add(key string, seq int64, v version, marker, latest bool) {
	e := c.entries[seq]
	if e == nil {
		e = &entry{key: key, sequence: seq}
		c.entries[seq] = e
	}
	c.last = max(c.last, seq)

	switch {
	case marker:
		e.markers = append(e.markers, v.modified)
		e.hidden = e.hidden || latest
	default:
		e.versions = append(e.versions, v)
	}
}

// listVersions calls fn for every object version and delete marker whose
// key starts with prefix, object versions of a key newest first.
func (s *Store) listVersions(ctx context.Context, prefix string,
	fn func(key string, v version, marker, latest bool)) error {
	paginator := s3.NewListObjectVersionsPaginator(s.client, &s3.ListObjectVersionsInput{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(prefix),
	})
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing records under s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, v := range page.Versions {
			fn(aws.ToString(v.Key), version{id: aws.ToString(v.VersionId),
				modified: aws.ToTime(v.LastModified)}, false, aws.ToBool(v.IsLatest))
		}
		for _, m := range page.DeleteMarkers {
			fn(aws.ToString(m.Key), version{id: aws.ToString(m.VersionId),
				modified: aws.ToTime(m.LastModified)}, true, aws.ToBool(m.IsLatest))
		}
	}

	return nil
}

// errGone means an object version no longer exists.
var errGone = errors.New("no longer stored")

// read returns the bytes of one version of a key.
func (s *Store) read(ctx context.Context, key, versionID string) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}

	out, err := s.client.GetObject(ctx, in)
	switch code := errorCode(err); {
	case code == "NoSuchKey" || code == "NoSuchVersion":
		return nil, fmt.Errorf("reading %s: %w", key, errGone)
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	defer out.Body.Close()

	data, err := io.ReadAll(io.LimitReader(out.Body, maxRecordBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	if len(data) > maxRecordBytes {
		return nil, fmt.Errorf("reading %s: larger than %d bytes, not a record", key,
			maxRecordBytes)
	}

	return data, nil
}

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}

	return ""
}
