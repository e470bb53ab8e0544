package account

import (
	"context"
	"errors"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
)

// RequestLog collects the AWS request ids of the calls made with a context,
// so that every action in a report can be traced in CloudTrail.
type RequestLog struct {
	mu  sync.Mutex
	ids []string
}

type requestLogKey struct{}

// WithRequestLog returns a context whose AWS calls are logged in the
// returned RequestLog.
func WithRequestLog(ctx context.Context) (context.Context, *RequestLog) {
	log := &RequestLog{}
	return context.WithValue(ctx, requestLogKey{}, log), log
}

// IDs returns the request ids logged so far, in call order.
func (l *RequestLog) IDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()

	return append([]string(nil), l.ids...)
}

func (l *RequestLog) add(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()

	l.ids = append(l.ids, id)
}

// logRequestIDs is an SDK middleware that hands each call's request id to the
// context's RequestLog, for failed calls as for successful ones.
func logRequestIDs(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("guardduty-response/request-ids",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
			middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)

			log, _ := ctx.Value(requestLogKey{}).(*RequestLog)
			if log == nil {
				return out, md, err
			}
			if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok && id != "" {
				log.add(id)
			} else if re := (*awshttp.ResponseError)(nil); errors.As(err, &re) && re.RequestID != "" {
				log.add(re.RequestID)
			}

			return out, md, err
		}), middleware.After)
}
