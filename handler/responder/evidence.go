package responder

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/guardduty-response/guardduty-response/handler/evidence"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

// record writes the response's evidence record, when a bucket is configured.
// It is written with the responder's own credentials, whichever account the
// finding is from, so that every record lands in the administrator's bucket.
func (r *Responder) record(ctx context.Context, report *playbook.Report, log *slog.Logger) error {
	if r.evidence == nil {
		return nil
	}

	rec, err := evidence.Response(report, r.sessions.Self().ARN)
	if err != nil {
		return fmt.Errorf("recording response to finding %s: %w", report.Finding.ID, err)
	}

	w, err := r.evidence.Append(ctx, rec)
	if err != nil {
		log.ErrorContext(ctx, "evidence record not written", "error", err)
		return fmt.Errorf("recording response to finding %s: %w", report.Finding.ID, err)
	}
	log.InfoContext(ctx, "evidence recorded", "bucket", r.evidence.Bucket(), "key", w.Key,
		"sha256", w.SHA256)

	return nil
}
