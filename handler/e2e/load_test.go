package e2e

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// Size of the load test: 100 findings through 10 execution environments
// side by side, or with E2E_LONG=1 1,000 through 20. Every resource is named
// by findingsPerResource findings, each with its own id, so that concurrent
// deliveries about one resource are the rule.
const (
	loadFindings         = 100
	loadEnvironments     = 10
	loadLongFindings     = 1000
	loadLongEnvironments = 20
	findingsPerResource  = 5
)

// loadSeed fixes the order in which a load's findings are delivered.
const loadSeed = 5

func TestLoadMakesOneResponsePerResource(t *testing.T) {
	findings, environments := loadFindings, loadEnvironments
	if os.Getenv(longEnv) != "" {
		findings, environments = loadLongFindings, loadLongEnvironments
	}

	w := newWorld(t)
	l := newLoad(w, findings)
	fns := startPool(t, environments)
	suite.recorder.Reset()

	took := l.deliver(fns)

	t.Logf("%d findings about %d resources through %d environments in %s: %.1f findings/s, "+
		"p50 %s, p95 %s", len(l.deliveries), l.resources(), environments,
		took.Round(time.Millisecond), float64(len(l.deliveries))/took.Seconds(),
		l.percentile(50), l.percentile(95))
	l.checkNoError()
	l.checkOneResponseEach()
}

// load is a set of findings about instances, IAM users and roles, and what
// became of each delivery.
type load struct {
	w          *world
	instances  []string
	users      []user
	roles      []role
	deliveries []*loadDelivery
}

// loadDelivery is one finding of a load.
type loadDelivery struct {
	resource string
	event    []byte
	took     time.Duration
	err      error
}

// newLoad makes the resources for n findings, half of them about instances
// and a quarter each about users and roles, and the findings, in an order
// drawn from a fixed seed.
func newLoad(w *world, n int) *load {
	w.t.Helper()
	resources := (n + findingsPerResource - 1) / findingsPerResource
	l := &load{w: w}

	p := w.accountIAM()
	for i := range resources / 4 {
		l.users = append(l.users, p.createUser(fmt.Sprintf("load-user-%d", i), 2, true))
		l.roles = append(l.roles, p.createRole(fmt.Sprintf("load-role-%d", i), ""))
	}
	cfg := suite.moto.Config(emulator.TestAccessKey, emulator.TestSecretKey)
	fleet, err := w.estate.LaunchFleet(w.ctx, cfg, resources-2*len(l.users))
	if err != nil {
		w.t.Fatal(err)
	}
	l.instances = fleet

	l.deliveries = l.findings(n)
	rng := rand.New(rand.NewPCG(loadSeed, uint64(n)))
	rng.Shuffle(len(l.deliveries), func(i, j int) {
		l.deliveries[i], l.deliveries[j] = l.deliveries[j], l.deliveries[i]
	})

	return l
}

// findings makes n findings, findingsPerResource about each resource in
// turn, each with its own id. A role's findings are all updated before the
// load starts, as redeliveries are: one revocation covers them all.
func (l *load) findings(n int) []*loadDelivery {
	w := l.w
	var out []*loadDelivery
	for i := range n {
		r := i / findingsPerResource
		var f map[string]any
		var resource string
		switch {
		case r < len(l.users):
			u := l.users[r]
			f, resource = w.userFinding(emulator.DefaultAccount, u, u.keys[0]), "user "+u.name
		case r < 2*len(l.users):
			role := l.roles[r-len(l.users)]
			f, resource = w.roleFinding(emulator.DefaultAccount, role), "role "+role.name
		default:
			id := l.instances[r-2*len(l.users)]
			f, resource = w.finding(id), "instance "+id
		}
		f["id"] = fmt.Sprintf("10ad%028x", i)

		event, err := emulator.Event(f)
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, &loadDelivery{resource: resource, event: event})
	}

	return out
}

// startPool starts n execution environments side by side.
func startPool(tb testing.TB, n int) []*emulator.Function {
	tb.Helper()
	fns := make([]*emulator.Function, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range fns {
		wg.Go(func() { fns[i], errs[i] = startFunction(tb.Context()) })
	}
	wg.Wait()

	for _, fn := range fns {
		if fn != nil {
			tb.Cleanup(fn.Stop)
		}
	}
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}

	return fns
}

// deliver sends every finding once, each environment taking the next one
// as soon as it is free, and returns how long it all took.
func (l *load) deliver(fns []*emulator.Function) time.Duration {
	queue := make(chan *loadDelivery)
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() {
			for d := range queue {
				start := time.Now()
				d.err = fn.Invoke(l.w.ctx, d.event)
				d.took = time.Since(start)
			}
		})
	}

	start := time.Now()
	for _, d := range l.deliveries {
		queue <- d
	}
	close(queue)
	wg.Wait()

	return time.Since(start)
}

func (l *load) resources() int { return len(l.instances) + len(l.users) + len(l.roles) }

// percentile returns the p-th percentile of the deliveries' durations.
func (l *load) percentile(p int) time.Duration {
	took := make([]time.Duration, 0, len(l.deliveries))
	for _, d := range l.deliveries {
		took = append(took, d.took)
	}
	slices.Sort(took)

	return took[(len(took)-1)*p/100].Round(time.Millisecond)
}

func (l *load) checkNoError() {
	l.w.t.Helper()
	failed := 0
	for _, d := range l.deliveries {
		if d.err != nil {
			failed++
			if failed <= 5 {
				l.w.t.Errorf("finding about %s: %v", d.resource, d.err)
			}
		}
	}
	if failed > 0 {
		l.w.t.Errorf("%d of %d deliveries failed", failed, len(l.deliveries))
	}
}

// checkOneResponseEach checks that every resource was contained exactly once:
// one contained report for it, one snapshot set, one change of each kind.
func (l *load) checkOneResponseEach() {
	w := l.w
	w.t.Helper()
	l.checkOneNotificationEach()
	for _, id := range l.instances {
		w.checkContainedOnce(id)
	}
	p := w.accountIAM()
	for _, u := range l.users {
		keys := p.keyStatus(u.name)
		if keys[u.keys[0]] != iamtypes.StatusTypeInactive ||
			keys[u.keys[1]] != iamtypes.StatusTypeActive {
			w.t.Errorf("user %s: keys %v, want only %s inactive", u.name, keys, u.keys[0])
		}
		w.checkDenyAll(p, u.name)
	}
	for _, r := range l.roles {
		if p.revocationCutoff(r.name).IsZero() {
			w.t.Errorf("role %s: sessions not revoked", r.name)
		}
	}

	users, roles := len(l.users), len(l.roles)
	for _, c := range []struct {
		service, action string
		want            int
	}{
		{"ec2", "CreateSnapshots", len(l.instances)},
		{"iam", "UpdateAccessKey", users},
		{"iam", "PutUserPolicy", users},
		{"iam", "DeleteLoginProfile", users},
		{"iam", "PutRolePolicy", roles},
		{"sns", "Publish", l.resources()},
	} {
		if got := suite.recorder.Count(c.service, c.action); got != c.want {
			w.t.Errorf("%s:%s called %d times, want %d: once per resource", c.service, c.action,
				got, c.want)
		}
	}
}

// checkOneNotificationEach checks that each resource got exactly one report,
// of its containment.
func (l *load) checkOneNotificationEach() {
	w := l.w
	w.t.Helper()
	reports := map[string][]report{} // by the resource they are about
	for _, n := range w.notifications() {
		r, ok := decodeReport(n)
		if !ok {
			w.t.Errorf("notification without a report: %q", n.Subject)
			continue
		}
		reports[r.Resource] = append(reports[r.Resource], r)
	}

	if len(reports) != l.resources() {
		w.t.Errorf("reports about %d resources, want %d", len(reports), l.resources())
	}
	for resource, rs := range reports {
		if len(rs) != 1 || rs[0].Outcome != "contained" {
			w.t.Errorf("%s: %d reports, want one, contained:%s", resource, len(rs), describe(rs))
		}
	}
}

// describe lists reports with their steps, for a failure message.
func describe(reports []report) string {
	var b strings.Builder
	for _, r := range reports {
		fmt.Fprintf(&b, "\n  finding %s: %s %s", r.Finding.ID, r.Outcome, r.Reason)
		for _, s := range r.Steps {
			fmt.Fprintf(&b, "\n    %s %s: %s %s%s", s.Action, s.Target, s.Status, s.Detail, s.Error)
		}
	}

	return b.String()
}
