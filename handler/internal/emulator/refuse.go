package emulator

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// Refuser stands between the handler and moto_server and refuses the calls
// it is told to, as a service of the query protocol (SNS, IAM, STS) refuses a
// call its caller may not make: 403 AuthorizationError, as for a topic whose
// access or key policy shuts the responder out. Every other call passes.
type Refuser struct {
	// URL is the endpoint to give the handler in place of moto's.
	URL string

	server *httptest.Server
	proxy  *httputil.ReverseProxy

	mu      sync.Mutex
	refuse  map[string]bool // "service:Action"
	refused int
}

// NewRefuser starts a refuser in front of target (moto's endpoint), refusing
// nothing yet.
func NewRefuser(target string) (*Refuser, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("parsing refuser target: %w", err)
	}

	r := &Refuser{proxy: httputil.NewSingleHostReverseProxy(u), refuse: map[string]bool{}}
	r.server = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.server.URL

	return r, nil
}

// Close stops the refuser.
func (r *Refuser) Close() { r.server.Close() }

// Refuse makes every later call of service's action fail, until Allow.
func (r *Refuser) Refuse(service, action string) { r.set(service, action, true) }

// Allow lets service's action through again.
func (r *Refuser) Allow(service, action string) { r.set(service, action, false) }

// Refused returns how many calls were refused so far.
func (r *Refuser) Refused() int {
	r.mu.Lock()
	defer r.mu.Unlock()

	return r.refused
}

func (r *Refuser) set(service, action string, refuse bool) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.refuse[service+":"+action] = refuse
}

func (r *Refuser) serve(w http.ResponseWriter, req *http.Request) {
	call, err := describeCall(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	r.mu.Lock()
	refuse := r.refuse[call.service+":"+call.action]
	if refuse {
		r.refused++
	}
	r.mu.Unlock()

	if !refuse {
		r.proxy.ServeHTTP(w, req)
		return
	}
	requestID := fmt.Sprintf("refused-%d", time.Now().UnixNano())
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code>`+
		`<Message>refused %s:%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		call.service, call.action, requestID)
}
