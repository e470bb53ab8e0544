package emulator

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// Fault is one way an AWS call can go wrong.
type Fault string

// The faults FaultProxy injects, as AWS and networks produce them.
const (
	Throttle    Fault = "throttle" // the service's own throttling error
	ServerError Fault = "500"      // InternalError / InternalFailure
	Unavailable Fault = "503"      // ServiceUnavailable
	Drop        Fault = "drop"     // the connection closes with no answer
	SlowAnswer  Fault = "slow"     // the answer comes after FaultConfig.Slow
)

// FaultConfig says which calls fail and how.
type FaultConfig struct {
	// Rate is the share of calls that get a fault, from 0 to 1.
	Rate float64
	// Seed makes the choice of calls and faults repeatable.
	Seed uint64
	// Faults to choose from; all of them when empty.
	Faults []Fault
	// Latency is added to every call.
	Latency time.Duration
	// Slow is how late a SlowAnswer comes; 2 s when zero.
	Slow time.Duration
	// Spare names actions that never fail (e.g. "GetCallerIdentity").
	Spare []string
}

// FaultProxy stands between the handler and moto_server and makes a share of
// the calls fail the way AWS and networks do.
type FaultProxy struct {
	// URL is the endpoint to give the handler in place of moto's.
	URL string

	cfg    FaultConfig
	server *httptest.Server
	proxy  *httputil.ReverseProxy

	mu       sync.Mutex
	rng      *rand.Rand
	calls    int
	injected map[Fault]int
}

// NewFaultProxy starts a proxy in front of target (moto's endpoint).
func NewFaultProxy(target string, cfg FaultConfig) (*FaultProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("parsing proxy target: %w", err)
	}
	if len(cfg.Faults) == 0 {
		cfg.Faults = []Fault{Throttle, ServerError, Unavailable, Drop, SlowAnswer}
	}
	if cfg.Slow == 0 {
		cfg.Slow = 2 * time.Second
	}

	p := &FaultProxy{
		cfg:      cfg,
		proxy:    httputil.NewSingleHostReverseProxy(u),
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		injected: map[Fault]int{},
	}
	p.server = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.server.URL

	return p, nil
}

// Close stops the proxy.
func (p *FaultProxy) Close() { p.server.Close() }

// Stats returns how many calls passed through and which faults were injected.
func (p *FaultProxy) Stats() (calls int, injected map[Fault]int) {
	p.mu.Lock()
	defer p.mu.Unlock()

	out := map[Fault]int{}
	for k, v := range p.injected {
		out[k] = v
	}

	return p.calls, out
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	call, err := describeCall(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	time.Sleep(p.cfg.Latency)

	switch fault := p.choose(call); fault {
	case "":
		p.proxy.ServeHTTP(w, r)
	case SlowAnswer:
		time.Sleep(p.cfg.Slow)
		p.proxy.ServeHTTP(w, r)
	case Drop:
		drop(w)
	default:
		writeFault(w, call, fault)
	}
}

// choose decides whether this call fails, and how.
func (p *FaultProxy) choose(call awsCall) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()

	p.calls++
	for _, spared := range p.cfg.Spare {
		if call.action == spared {
			return ""
		}
	}
	if p.rng.Float64() >= p.cfg.Rate {
		return ""
	}

	fault := p.cfg.Faults[p.rng.IntN(len(p.cfg.Faults))]
	p.injected[fault]++

	return fault
}

// awsCall is what the proxy knows of a request.
type awsCall struct {
	service string // the signing name: ec2, iam, sns…
	action  string
	json    bool // a JSON protocol (DynamoDB and other X-Amz-Target services)
}

// describeCall reads the service and action of a signed AWS request, and
// leaves its body to be read again.
func describeCall(r *http.Request) (awsCall, error) {
	action, err := actionOf(r)
	if err != nil {
		return awsCall{}, err
	}

	return awsCall{
		service: signingName(r),
		action:  action,
		json:    r.Header.Get("X-Amz-Target") != "",
	}, nil
}

// writeFault answers as the service would for that fault.
func writeFault(w http.ResponseWriter, call awsCall, fault Fault) {
	status, code := faultStatus(call, fault)
	requestID := fmt.Sprintf("fault-%d", time.Now().UnixNano())

	switch {
	case call.json:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"%s","message":"injected %s"}`, code, fault)
	case call.service == "ec2":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<Response><Errors><Error><Code>%s</Code><Message>injected %s</Message>`+
			`</Error></Errors><RequestID>%s</RequestID></Response>`, code, fault, requestID)
	default:
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-RequestId", requestID)
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>%s</Type><Code>%s</Code>`+
			`<Message>injected %s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			errorType(status), code, fault, requestID)
	}
}

// faultStatus gives the status and error code each service uses: EC2
// throttles with 503 RequestLimitExceeded, IAM, STS and SNS with 400
// Throttling, DynamoDB with 400 ThrottlingException.
func faultStatus(call awsCall, fault Fault) (int, string) {
	switch fault {
	case Throttle:
		switch {
		case call.service == "ec2":
			return http.StatusServiceUnavailable, "RequestLimitExceeded"
		case call.json:
			return http.StatusBadRequest, "ThrottlingException"
		default:
			return http.StatusBadRequest, "Throttling"
		}
	case ServerError:
		if call.service == "ec2" {
			return http.StatusInternalServerError, "InternalError"
		}
		return http.StatusInternalServerError, "InternalFailure"
	default:
		return http.StatusServiceUnavailable, "ServiceUnavailable"
	}
}

func errorType(status int) string {
	if status >= 500 {
		return "Receiver"
	}

	return "Sender"
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hijacker.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
