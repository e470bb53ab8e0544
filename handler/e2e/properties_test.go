package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// Switches of the property and load tests.
const (
	// propertySeedEnv replays a run of the property test: the seed it logs.
	propertySeedEnv = "E2E_PROPERTY_SEED"
	// longEnv turns on the long variants of the property and load tests.
	longEnv = "E2E_LONG"
)

// Size of the property test: one batch of generated findings, ten with
// E2E_LONG=1; each batch starts from a reset emulator.
const (
	propertyFindings    = 40
	propertyLongBatches = 10
)

// target is what a generated finding names.
type target int

const (
	protectedInstance target = iota // tagged guardduty-response:protected=true
	protectedUser
	breakGlassRole // in BREAK_GLASS_PRINCIPALS
	breakGlassUser
	ownRole    // the role the responder runs as
	memberRole // the role the responder acts through in the account
	ordinaryInstance
	ordinaryUser
	ordinaryRole
	targets // how many there are
)

var targetNames = [targets]string{"protected instance", "protected user", "break-glass role",
	"break-glass user", "the responder's own role", "the responder's member role",
	"ordinary instance", "ordinary user", "ordinary role"}

func (t target) String() string { return targetNames[t] }

// ordinary reports whether a response may change what t names.
func (t target) ordinary() bool { return t >= ordinaryInstance }

// reason is what a notification about t says when it leaves t alone.
func (t target) reason() string {
	switch t {
	case protectedInstance, protectedUser:
		return "protected"
	case breakGlassRole, breakGlassUser:
		return "break-glass"
	case ownRole:
		return "responder's own identity"
	case memberRole:
		return "acts through"
	}

	return ""
}

// propertyCase is one generated finding and how it is delivered.
type propertyCase struct {
	target   target
	sample   bool
	dryRun   bool // delivered to the function with DRY_RUN=true
	severity float64
	id       string
	key      int    // which of a user's access keys it names
	resource string // the watched resource it names: "instance i-…", "user …", "role …"
}

func (c propertyCase) String() string {
	s := fmt.Sprintf("finding %s naming %s (%s), severity %.1f", c.id, c.target, c.resource,
		c.severity)
	if c.sample {
		s += ", sample"
	}
	if c.dryRun {
		s += ", to the dry-run function"
	}

	return s
}

// acts reports whether the response may change what the case names.
func (c propertyCase) acts() bool { return c.target.ordinary() && !c.sample && !c.dryRun }

// outcome is the outcome the notification must report.
func (c propertyCase) outcome() string {
	switch {
	case c.sample:
		return "dry-run"
	case !c.target.ordinary():
		return "not-acted"
	case c.dryRun:
		return "dry-run"
	}

	return "contained"
}

// planCases draws n cases. Each round of 4 × targets cases holds every
// combination of target, sample flag and function once, in an order drawn
// from rng, so that even a short run tries every combination; severities and
// ids are drawn for each case.
func planCases(rng *rand.Rand, n int) []propertyCase {
	var round []propertyCase
	for t := range targets {
		for _, sample := range []bool{false, true} {
			for _, dryRun := range []bool{false, true} {
				round = append(round, propertyCase{target: t, sample: sample, dryRun: dryRun})
			}
		}
	}

	var cases []propertyCase
	for len(cases) < n {
		rng.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
		cases = append(cases, round[:min(len(round), n-len(cases))]...)
	}
	for i := range cases {
		cases[i].severity = float64(10+rng.IntN(80)) / 10
		cases[i].id = fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		cases[i].key = rng.IntN(2)
	}

	return cases
}

// TestSafetyInvariantsHoldForGeneratedFindings delivers generated findings
// through the compiled bootstrap, each naming at random a protected instance
// or user, a break-glass role or user, the responder's own role or its member
// role, or an ordinary instance, user or role (a fresh one each time), with
// a random sample flag and severity, to the function or to its dry-run twin.
// After each it compares the live state of every resource with the state
// before, and checks:
//
//   - nothing protected changed;
//   - no break-glass principal changed;
//   - neither of the responder's own roles changed;
//   - nothing changed for a sample finding or in dry-run mode;
//   - nothing the finding does not name changed;
//
// and, so that the comparison is known to see a response, that every finding
// the responder acts on did change what it names. Each finding must also be
// answered without error by exactly one notification with the outcome its
// case calls for.
func TestSafetyInvariantsHoldForGeneratedFindings(t *testing.T) {
	seed := propertySeed(t)
	batches := 1
	if os.Getenv(longEnv) != "" {
		batches = propertyLongBatches
	}

	for b := range batches {
		t.Run(fmt.Sprintf("batch %d", b), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(b)))
			newPropertyWorld(t, planCases(rng, propertyFindings)).deliverAll()
		})
	}
}

// propertySeed is E2E_PROPERTY_SEED, or a new seed, logged for a replay.
func propertySeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(propertySeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", propertySeedEnv, s, err)
		}
	}
	t.Logf("seed %d: replay with %s=%d", seed, propertySeedEnv, seed)

	return seed
}

// propertyWorld is the estate of one batch: every target, the functions,
// and the resources watched.
type propertyWorld struct {
	*world
	p     *principals
	cases []propertyCase
	watch watched
	kinds map[string]target // each target resource; bystanders are absent

	users map[string]user // by resource
	roles map[string]role
	live  *emulator.Function
	dry   *emulator.Function
}

// Names of the principals every batch creates.
const (
	breakGlassRoleName = "break-glass"
	breakGlassUserName = "firefighter"
	ownRoleName        = "guardduty-response-lambda"
)

func newPropertyWorld(t *testing.T, cases []propertyCase) *propertyWorld {
	w := newWorld(t)
	pw := &propertyWorld{world: w, p: w.accountIAM(), cases: cases, kinds: map[string]target{},
		users: map[string]user{}, roles: map[string]role{}}

	e := w.estate
	w.tag(e.Web, "guardduty-response:protected", "true")
	pw.addInstance(protectedInstance, e.Web)
	pw.addUser(protectedUser, pw.p.createUser("admin", 1, true,
		tag("guardduty-response:protected", "true")))
	pw.addUser(breakGlassUser, pw.p.createUser(breakGlassUserName, 1, true))
	pw.addRole(breakGlassRole, pw.p.createRole(breakGlassRoleName, "/emergency/"))
	pw.addRole(memberRole, pw.p.createRole(memberRoleName, ""))
	own := w.responderRole(pw.p, ownRoleName)
	pw.addRole(ownRole, own)
	pw.createOrdinary()

	// Bystanders: named by no finding, watched all the same.
	pw.watch.users = append(pw.watch.users, emulator.AdminUser, emulator.ResponderUser)
	pw.watch.roles = append(pw.watch.roles, "web")

	pw.live, pw.dry = pw.startFunctions(own)

	return pw
}

// createOrdinary makes a fresh ordinary resource for every case that names
// one, so that each such finding meets a resource no response has touched.
func (pw *propertyWorld) createOrdinary() {
	w := pw.world
	count := map[target]int{}
	for _, c := range pw.cases {
		count[c.target]++
	}

	cfg := suite.moto.Config(emulator.TestAccessKey, emulator.TestSecretKey)
	fleet := []string{w.estate.Worker}
	if n := count[ordinaryInstance] - 1; n > 0 {
		more, err := w.estate.LaunchFleet(w.ctx, cfg, n)
		if err != nil {
			w.t.Fatal(err)
		}
		fleet = append(fleet, more...)
	}
	users, roles := 0, 0
	for i := range pw.cases {
		c := &pw.cases[i]
		switch c.target {
		case ordinaryInstance:
			c.resource, fleet = pw.addInstance(ordinaryInstance, fleet[0]), fleet[1:]
		case ordinaryUser:
			users++
			u := pw.p.createUser(fmt.Sprintf("user-%d", users), 2, true)
			c.resource = pw.addUser(ordinaryUser, u)
		case ordinaryRole:
			roles++
			r := pw.p.createRole(fmt.Sprintf("role-%d", roles), "")
			c.resource = pw.addRole(ordinaryRole, r)
		default:
			c.resource = pw.resourceOf(c.target)
		}
	}
}

func (pw *propertyWorld) addInstance(kind target, id string) string {
	pw.watch.instances = append(pw.watch.instances, id)
	pw.kinds["instance "+id] = kind

	return "instance " + id
}

func (pw *propertyWorld) addUser(kind target, u user) string {
	pw.watch.users = append(pw.watch.users, u.name)
	pw.kinds["user "+u.name] = kind
	pw.users["user "+u.name] = u

	return "user " + u.name
}

func (pw *propertyWorld) addRole(kind target, r role) string {
	pw.watch.roles = append(pw.watch.roles, r.name)
	pw.kinds["role "+r.name] = kind
	pw.roles["role "+r.name] = r

	return "role " + r.name
}

// resourceOf returns the one resource of a kind that is not ordinary.
func (pw *propertyWorld) resourceOf(kind target) string {
	for resource, k := range pw.kinds {
		if k == kind {
			return resource
		}
	}
	pw.t.Fatalf("no %s in the estate", kind)

	return ""
}

// startFunctions starts the function and its dry-run twin, both running as
// the responder's own role and told the break-glass principals.
func (pw *propertyWorld) startFunctions(own role) (live, dry *emulator.Function) {
	creds := pw.assumeRole(own.arn)
	account := "arn:aws:iam::" + emulator.DefaultAccount
	env := []string{
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + creds.SessionToken,
		"BREAK_GLASS_PRINCIPALS=" + account + ":role/" + breakGlassRoleName + "," +
			account + ":user/" + breakGlassUserName,
	}

	return pw.startTestFunction(append(env, "DRY_RUN=false")...),
		pw.startTestFunction(append(env, "DRY_RUN=true")...)
}

// deliverAll delivers every case and checks the invariants after each.
func (pw *propertyWorld) deliverAll() {
	state := pw.liveState(pw.watch)
	var invoking, reading time.Duration
	for i, c := range pw.cases {
		pw.t.Logf("%2d: %s", i, c)
		fn := pw.live
		if c.dryRun {
			fn = pw.dry
		}

		start := time.Now()
		err := pw.invoke(fn, pw.findingFor(c))
		invoked := time.Now()
		after := pw.liveState(pw.watch)
		invoking, reading = invoking+invoked.Sub(start), reading+time.Since(invoked)

		pw.checkInvariants(i, c, state.changes(after))
		pw.checkAnswer(i, c, err)
		state = after
	}
	resources := len(pw.watch.instances) + len(pw.watch.users) + len(pw.watch.roles)
	pw.t.Logf("%d findings: %s in the function, %s reading %d facts of %d resources after each",
		len(pw.cases), invoking.Round(time.Millisecond), reading.Round(time.Millisecond),
		len(state), resources)
}

// findingFor builds the case's finding.
func (pw *propertyWorld) findingFor(c propertyCase) map[string]any {
	var f map[string]any
	kind, name, _ := strings.Cut(c.resource, " ")
	switch kind {
	case "instance":
		f = pw.finding(name)
	case "user":
		u := pw.users[c.resource]
		f = pw.userFinding(emulator.DefaultAccount, u, u.keys[c.key%len(u.keys)])
	case "role":
		f = pw.roleFinding(emulator.DefaultAccount, pw.roles[c.resource])
	}

	f["id"], f["severity"] = c.id, c.severity
	if c.sample {
		f["service"].(map[string]any)["additionalInfo"] = map[string]any{"sample": true}
	}

	return f
}

// checkInvariants checks every change a delivery made against the
// invariants, and that a response that acts is seen to.
func (pw *propertyWorld) checkInvariants(i int, c propertyCase, changes []change) {
	pw.t.Helper()
	named := 0
	for _, ch := range changes {
		if ch.resource == c.resource {
			named++
		}
		if c.acts() && ch.resource == c.resource {
			continue
		}
		pw.t.Errorf("%d: %s: %s", i, pw.violated(c, ch.resource), ch)
	}

	if c.acts() && named == 0 {
		pw.t.Errorf("%d: the responder acted on %s, and the live state shows no change to it: "+
			"the comparison cannot see a response", i, c.resource)
	}
}

// violated names the invariant a change to resource breaks.
func (pw *propertyWorld) violated(c propertyCase, resource string) string {
	kind, watchedTarget := pw.kinds[resource]
	switch {
	case watchedTarget && (kind == protectedInstance || kind == protectedUser):
		return "a protected resource changed"
	case watchedTarget && (kind == breakGlassRole || kind == breakGlassUser):
		return "a break-glass principal changed"
	case watchedTarget && (kind == ownRole || kind == memberRole):
		return "the responder's own role changed"
	case c.sample:
		return "a sample finding changed something"
	case c.dryRun:
		return "a dry run changed something"
	}

	return "a resource the finding does not name changed"
}

// checkAnswer checks that the delivery succeeded and was reported once, with
// the outcome the case calls for.
func (pw *propertyWorld) checkAnswer(i int, c propertyCase, err error) {
	pw.t.Helper()
	if err != nil {
		pw.t.Errorf("%d: function error %v", i, err)
	}

	all := pw.notifications()
	if len(all) != 1 {
		pw.t.Errorf("%d: %d notifications, want 1", i, len(all))
		return
	}
	r, ok := decodeReport(all[0])
	switch {
	case !ok:
		pw.t.Errorf("%d: notification without a report:\n%s", i, all[0].Message)
	case r.Finding.ID != c.id:
		pw.t.Errorf("%d: notification about finding %s, want %s", i, r.Finding.ID, c.id)
	case r.Outcome != c.outcome():
		pw.t.Errorf("%d: outcome %q (reason %q), want %q", i, r.Outcome, r.Reason, c.outcome())
	case r.Outcome == "not-acted" && !strings.Contains(r.Reason, c.target.reason()):
		pw.t.Errorf("%d: reason %q does not say %q", i, r.Reason, c.target.reason())
	}
}
