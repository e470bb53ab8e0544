package emulator

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Call is one AWS API call as the Recorder saw it.
type Call struct {
	// Service is the signing name from the call's credential scope: "ec2",
	// "iam", "sts".
	Service string
	// Action is the operation ("DescribeInstances"), from the X-Amz-Target
	// header or the Action parameter, or "METHOD /path" for a REST call.
	Action string
	Start  time.Time
	End    time.Time
	Status int
}

// Duration is how long the call took.
func (c Call) Duration() time.Duration { return c.End.Sub(c.Start) }

func (c Call) String() string {
	return fmt.Sprintf("%s:%s %d %s", c.Service, c.Action, c.Status,
		c.Duration().Round(time.Microsecond))
}

// Recorder is a reverse proxy to put between the handler and moto_server,
// recording each call: what it was, when it started and ended. Give the
// handler its URL as AWS_ENDPOINT_URL. The handler's request signatures stay
// valid: the Host header is passed on as the handler signed it.
type Recorder struct {
	// URL is the endpoint to give the handler in place of moto's.
	URL string

	server *httptest.Server
	proxy  *httputil.ReverseProxy

	mu    sync.Mutex
	calls []Call
}

// NewRecorder starts a recorder in front of target (moto's endpoint).
func NewRecorder(target string) (*Recorder, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("parsing recorder target: %w", err)
	}

	r := &Recorder{proxy: httputil.NewSingleHostReverseProxy(u)}
	r.server = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.server.URL

	return r, nil
}

// Close stops the recorder.
func (r *Recorder) Close() { r.server.Close() }

// Calls returns the calls recorded so far, in the order they started.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()

	calls := slices.Clone(r.calls)
	slices.SortStableFunc(calls, func(a, b Call) int { return a.Start.Compare(b.Start) })

	return calls
}

// Reset forgets the calls recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.calls = nil
}

// Count returns how many recorded calls were service's action.
func (r *Recorder) Count(service, action string) int {
	n := 0
	for _, c := range r.Calls() {
		if c.Service == service && c.Action == action {
			n++
		}
	}

	return n
}

func (r *Recorder) serve(w http.ResponseWriter, req *http.Request) {
	call := Call{Service: signingName(req), Start: time.Now()}
	action, err := actionOf(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	call.Action = action

	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	r.proxy.ServeHTTP(sw, req)
	call.End, call.Status = time.Now(), sw.status

	r.mu.Lock()
	r.calls = append(r.calls, call)
	r.mu.Unlock()
}

// signingName reads the service from the SigV4 credential scope:
// Credential=AKID/20260101/us-east-1/ec2/aws4_request.
func signingName(req *http.Request) string {
	_, scope, ok := strings.Cut(req.Header.Get("Authorization"), "Credential=")
	if !ok {
		return "unsigned"
	}
	scope, _, _ = strings.Cut(scope, ",")
	if fields := strings.Split(scope, "/"); len(fields) == 5 {
		return fields[3]
	}

	return "unknown"
}

// actionOf names the operation of a request. A form body is read and put
// back for the proxy.
func actionOf(req *http.Request) (string, error) {
	if target := req.Header.Get("X-Amz-Target"); target != "" {
		return target[strings.LastIndex(target, ".")+1:], nil
	}
	if action := req.URL.Query().Get("Action"); action != "" {
		return action, nil
	}

	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return "", fmt.Errorf("reading request body: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			return form.Get("Action"), nil
		}
	}

	return req.Method + " " + req.URL.Path, nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// CriticalPath returns the longest chain of calls in which each call started
// after the one before it ended: the calls that had to wait for each other,
// whose count is how many round trips a response takes however fast the
// calls beside them run. Of chains equally long, the one that took longest
// is returned.
func CriticalPath(calls []Call) []Call {
	return criticalPath(calls, func(Call) bool { return true })
}

// CriticalPathTo is the longest such chain that ends with a call of service's
// action: for the response, how many round trips before the team is told.
func CriticalPathTo(calls []Call, service, action string) []Call {
	return criticalPath(calls, func(c Call) bool { return c.Service == service && c.Action == action })
}

// criticalPath returns the longest chain of waiting calls ending in a call
// that ends accepts.
func criticalPath(calls []Call, ends func(Call) bool) []Call {
	sorted := slices.Clone(calls)
	slices.SortStableFunc(sorted, func(a, b Call) int { return a.Start.Compare(b.Start) })

	length := make([]int, len(sorted))
	spent := make([]time.Duration, len(sorted))
	prev := make([]int, len(sorted))
	best := -1
	for i, c := range sorted {
		length[i], spent[i], prev[i] = 1, c.Duration(), -1
		for j := range i {
			if !sorted[j].End.Before(c.Start) {
				continue
			}
			if longer(length[j]+1, spent[j]+c.Duration(), length[i], spent[i]) {
				length[i], spent[i], prev[i] = length[j]+1, spent[j]+c.Duration(), j
			}
		}
		if ends(c) && (best < 0 || longer(length[i], spent[i], length[best], spent[best])) {
			best = i
		}
	}

	var path []Call
	for i := best; i >= 0; i = prev[i] {
		path = append(path, sorted[i])
	}
	slices.Reverse(path)

	return path
}

func longer(n int, d time.Duration, thanN int, thanD time.Duration) bool {
	return n > thanN || (n == thanN && d > thanD)
}
