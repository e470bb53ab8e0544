package e2e

import (
	"fmt"
	"sync"
	"testing"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// environments is how many execution environments the concurrency tests
// run side by side, each a runtime emulator with its own addresses.
const environments = 10

// startEnvironments starts n functions as Lambda would for n concurrent
// deliveries: separate processes that share nothing but AWS.
func startEnvironments(t *testing.T, n int) []*emulator.Function {
	t.Helper()
	fns := make([]*emulator.Function, n)
	for i := range fns {
		fn, err := startFunction(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fn.Stop)
		fns[i] = fn
	}

	return fns
}

func TestConcurrentDeliveriesMakeOneResponse(t *testing.T) {
	fns := startEnvironments(t, environments)

	tests := []struct {
		name    string
		finding func(w *world, i int) map[string]any
	}{
		{"the same finding ten times", func(w *world, _ int) map[string]any {
			return w.finding(w.estate.Web)
		}},
		{"ten findings for one instance", func(w *world, i int) map[string]any {
			f := w.finding(w.estate.Web)
			f["id"] = fmt.Sprintf("%032x", i+1)
			return f
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			e := w.estate

			var wg sync.WaitGroup
			errs := make([]error, len(fns))
			for i, fn := range fns {
				f := tt.finding(w, i)
				wg.Go(func() { errs[i] = w.invoke(fn, f) })
			}
			wg.Wait()

			for i, err := range errs {
				if err != nil {
					t.Errorf("delivery %d: %v", i, err)
				}
			}
			w.checkSnapshotSet(e.Web, e.WebVolumes)
			if n := w.notifications(); len(n) != 1 {
				t.Errorf("got %d notifications, want 1", len(n))
			}
			for eni, groups := range w.interfaceGroups(e.WebInterfaces...) {
				if len(groups) != 1 || groups[0] != e.IsolationA {
					t.Errorf("%s in %v, want the isolation group", eni, groups)
				}
			}
		})
	}
}
