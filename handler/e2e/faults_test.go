package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// Size of the fault scenario: 100 findings, 60 about 50 instances and 40
// about 20 IAM users.
const (
	faultInstances  = 50
	faultPrincipals = 20
	faultFindings   = 100
	faultUserShare  = 40 // of the findings, those about users
	faultBystanders = 4  // instances no finding names
	faultRate       = 0.2
	faultWorkers    = 5 // execution environments side by side
	asyncAttempts   = 3 // Lambda's asynchronous invocation: the call and two retries
)

// delivery is one finding and what became of it.
type delivery struct {
	resource string
	finding  map[string]any
	attempts int
	err      error // the last attempt's error
}

func TestFaultsLeaveEveryResourceContainedOnce(t *testing.T) {
	w := newWorld(t)
	cfg := suite.moto.Config(emulator.TestAccessKey, emulator.TestSecretKey)
	fleet, err := w.estate.LaunchFleet(w.ctx, cfg, faultInstances+faultBystanders)
	if err != nil {
		t.Fatal(err)
	}
	targets, bystanders := fleet[:faultInstances], fleet[faultInstances:]
	p := w.accountIAM()
	var users []user
	for i := range faultPrincipals {
		users = append(users, p.createUser(fmt.Sprintf("fault-user-%d", i), 2, true))
	}

	proxy, err := emulator.NewFaultProxy(suite.moto.Endpoint,
		emulator.FaultConfig{Rate: faultRate, Seed: 7, Slow: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	fns := make([]*emulator.Function, faultWorkers)
	for i := range fns {
		if fns[i], err = startFunction(w.ctx, "AWS_ENDPOINT_URL="+proxy.URL); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fns[i].Stop)
	}

	deliveries := w.faultDeliveries(targets, users)
	deliverAll(w.ctx, t, fns, deliveries)

	calls, injected := proxy.Stats()
	t.Logf("%d calls through the proxy, faults injected: %v", calls, injected)
	w.checkEveryFindingAccountedFor(deliveries)
	for _, id := range targets {
		w.checkContainedOnce(id)
	}
	for _, u := range users {
		keys := p.keyStatus(u.name)
		if keys[u.keys[0]] != iamtypes.StatusTypeInactive || keys[u.keys[1]] != iamtypes.StatusTypeActive {
			t.Errorf("%s: keys %v, want only %s inactive", u.name, keys, u.keys[0])
		}
		w.checkDenyAll(p, u.name)
	}
	for _, id := range bystanders {
		eni := aws.ToString(w.instance(id).NetworkInterfaces[0].NetworkInterfaceId)
		group := w.interfaceGroups(eni)[eni][0]
		w.checkUntouched(id, []string{eni}, group)
	}
}

// faultDeliveries makes the scenario's findings, each with its own id: the
// users' about their first key, the rest about the instances.
func (w *world) faultDeliveries(instances []string, users []user) []*delivery {
	var out []*delivery
	for i := range faultFindings {
		var d delivery
		if i < faultUserShare {
			u := users[i%len(users)]
			d = delivery{resource: "user " + u.name,
				finding: w.userFinding(emulator.DefaultAccount, u, u.keys[0])}
		} else {
			id := instances[i%len(instances)]
			d = delivery{resource: id, finding: w.finding(id)}
		}
		d.finding["id"] = fmt.Sprintf("%032x", i+1)
		out = append(out, &d)
	}

	return out
}

// deliverAll sends every finding through a pool of functions, retrying a
// failed invocation the way asynchronous Lambda does.
func deliverAll(ctx context.Context, t *testing.T, fns []*emulator.Function, deliveries []*delivery) {
	t.Helper()
	queue := make(chan *delivery)
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() {
			for d := range queue {
				event, err := emulator.Event(d.finding)
				if err != nil {
					d.err = err
					continue
				}
				for d.attempts = 1; ; d.attempts++ {
					d.err = fn.Invoke(ctx, event)
					if d.err == nil || d.attempts == asyncAttempts {
						break
					}
				}
			}
		})
	}
	for _, d := range deliveries {
		queue <- d
	}
	close(queue)
	wg.Wait()
}

// checkEveryFindingAccountedFor checks that each finding either succeeded or
// ended in a failure the security team was told about.
func (w *world) checkEveryFindingAccountedFor(deliveries []*delivery) {
	w.t.Helper()
	reported := map[string]bool{}
	for _, n := range w.notifications() {
		if r, ok := decodeReport(n); ok && r.Outcome != "contained" {
			reported[r.Finding.ID] = true
		}
	}

	retried := 0
	for _, d := range deliveries {
		if d.attempts > 1 {
			retried++
		}
		if d.err != nil && !reported[d.finding["id"].(string)] {
			w.t.Errorf("finding %s for %s failed unreported: %v", d.finding["id"], d.resource, d.err)
		}
	}
	w.t.Logf("%d of %d findings needed a retry", retried, len(deliveries))
}

// checkContainedOnce checks that an instance is isolated, marked, and has
// exactly one snapshot set.
func (w *world) checkContainedOnce(id string) {
	w.t.Helper()
	inst := w.instance(id)
	eni := aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId)
	vpc := aws.ToString(inst.VpcId)
	iso, _ := w.quarantineGroups(vpc)
	if got := w.interfaceGroups(eni)[eni]; !slices.Equal(got, []string{aws.ToString(iso.GroupId)}) {
		w.t.Errorf("%s: interface in %v, want the isolation group", id, got)
	}
	if status := w.tags(id)["guardduty-response:status"]; status != "quarantined" {
		w.t.Errorf("%s: status %q", id, status)
	}

	var volumes []string
	for _, m := range inst.BlockDeviceMappings {
		volumes = append(volumes, aws.ToString(m.Ebs.VolumeId))
	}
	w.checkSnapshotSet(id, volumes)
}
