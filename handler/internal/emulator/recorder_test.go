package emulator

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCriticalPath(t *testing.T) {
	t.Parallel()
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	call := func(action string, start, end int) Call {
		return Call{Service: "ec2", Action: action, Start: at(start), End: at(end)}
	}

	tests := []struct {
		name  string
		calls []Call
		want  []string
	}{
		{"none", nil, nil},
		{"one", []Call{call("A", 0, 5)}, []string{"A"}},
		{
			name:  "side by side count once",
			calls: []Call{call("A", 0, 10), call("B", 1, 9), call("C", 2, 8)},
			want:  []string{"A"},
		},
		{
			name: "read, then changes side by side, then a mark",
			calls: []Call{
				call("Read", 0, 10), call("Change1", 11, 20), call("Change2", 11, 30),
				call("Mark", 31, 35),
			},
			want: []string{"Read", "Change2", "Mark"},
		},
		{
			name:  "a call starting as another ends does not follow it",
			calls: []Call{call("A", 0, 10), call("B", 10, 20), call("C", 5, 6), call("D", 7, 8)},
			want:  []string{"C", "D", "B"},
		},
		{
			name:  "input order does not matter",
			calls: []Call{call("C", 20, 30), call("A", 0, 5), call("B", 6, 19)},
			want:  []string{"A", "B", "C"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, c := range CriticalPath(tt.calls) {
				got = append(got, c.Action)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("critical path %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRecorderNamesEachCall(t *testing.T) {
	t.Parallel()
	var hosts []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts = append(hosts, r.Host)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(backend.Close)
	rec, err := NewRecorder(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rec.Close)

	sign := func(service string) string {
		return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/" + service +
			"/aws4_request, SignedHeaders=host, Signature=0"
	}
	requests := []struct {
		name, method, path, body, target, service, want string
	}{
		{"json target", "POST", "/", "{}", "DynamoDB_20120810.PutItem", "dynamodb", "PutItem"},
		{"form body", "POST", "/", "Action=DescribeInstances&Version=2016-11-15", "", "ec2",
			"DescribeInstances"},
		{"query", "GET", "/?Action=GetUser&UserName=a", "", "", "iam", "GetUser"},
		{"rest", "GET", "/2015-03-31/functions", "", "", "lambda", "GET /2015-03-31/functions"},
	}
	for _, r := range requests {
		req, err := http.NewRequest(r.method, rec.URL+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", sign(r.service))
		if r.target != "" {
			req.Header.Set("X-Amz-Target", r.target)
		} else if r.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	calls := rec.Calls()
	if len(calls) != len(requests) {
		t.Fatalf("recorded %d calls, want %d", len(calls), len(requests))
	}
	for i, r := range requests {
		c := calls[i]
		if c.Service != r.service || c.Action != r.want || c.Status != http.StatusTeapot ||
			c.End.Before(c.Start) {
			t.Errorf("%s: recorded %+v, want %s:%s", r.name, c, r.service, r.want)
		}
	}
	if n := rec.Count("ec2", "DescribeInstances"); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
	for _, h := range hosts {
		if "http://"+h != rec.URL {
			t.Errorf("backend saw Host %s, want the recorder's %s, which the caller signed", h, rec.URL)
		}
	}
}
