package healing

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/events"
)

// Live chaos runs (spec 30 §6.18 fix): the scenario's injection changes a
// simulated fleet and its synthetic heal events go through an isolated
// pipeline — its own Room on a scratch, migrated SQLite database, a fake
// in-process fleet, an approvals stub, a virtual clock and Sandbox set —
// so nothing reaches real agents, the real ledger or trust, notifications
// or the audit (the run's own audit entry aside). Every expectation's
// actual value is read from what that pipeline did: its ledger, trust,
// counters (circuit breaker), approvals and the fleet's received commands.
// Checks the pipeline has no notion of report actual null, passed false.
//
// The run is synchronous: with the virtual clock and a tiny settle scale it
// takes well under a second, bounded by chaosTimeout (status "error" past
// it). Live runs are serialized: a second run waits for the first (bounded
// by the same timeout) rather than getting a 409 — runs are short and an
// admin re-running a scenario should get a result, not an error.

const chaosTimeout = 20 * time.Second

const chaosHost = "chaos-host"

// vclock is the isolated pipeline's virtual clock.
type vclock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *vclock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *vclock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// simFleet is the simulated fleet (implements Agents).
type simFleet struct {
	mu         sync.Mutex
	online     map[string]bool
	containers map[string]bool   // name -> running
	services   map[string]string // name -> active/failed
	resist     map[string]bool   // services that stay failed whatever is done
	procs      []*simProc        // the host's processes
	noDocker   bool
	heals      []string // heal commands received: "cmd target"
	gate       chan struct{}
	// onHeal runs as a heal command reaches the host; true means the
	// command lost to a conflicting one (systemd cancels its job).
	onHeal func(target string) bool
}

// simProc is a simulated process.
type simProc struct {
	pid  int
	name string
	nice int
}

// proc finds a process by pid (under f.mu).
func (f *simFleet) proc(pid string) *simProc {
	for _, p := range f.procs {
		if strconv.Itoa(p.pid) == pid {
			return p
		}
	}
	return nil
}

// procExec answers the process commands (ps -o ni=, pgrep, renice); ok false for
// any other command.
func (f *simFleet) procExec(argv []string) (map[string]any, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res := func(code int, stdout string) map[string]any {
		return map[string]any{"status": "ok", "stdout": stdout, "exit_code": strconv.Itoa(code)}
	}
	switch {
	case len(argv) == 5 && argv[0] == "ps" && argv[2] == "ni=" && argv[3] == "-p":
		if p := f.proc(argv[4]); p != nil {
			return res(0, strconv.Itoa(p.nice)), true
		}
		return res(1, ""), true
	case len(argv) == 4 && argv[0] == "pgrep":
		for _, p := range f.procs {
			if p.name == argv[3] {
				return res(0, strconv.Itoa(p.pid)), true
			}
		}
		return res(1, ""), true
	case len(argv) == 5 && argv[0] == "renice" && argv[3] == "-p":
		p := f.proc(argv[4])
		n, err := strconv.Atoi(argv[2])
		if p == nil || err != nil {
			return map[string]any{"status": "error", "error": "renice: failed to set priority"}, true
		}
		f.heals = append(f.heals, "renice "+p.name)
		p.nice = n
		return res(0, ""), true
	}
	return nil, false
}

func newFleet() *simFleet {
	return &simFleet{online: map[string]bool{chaosHost: true}, containers: map[string]bool{}, services: map[string]string{},
		resist: map[string]bool{}}
}

func (f *simFleet) Online() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for h, on := range f.online {
		if on {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

func (f *simFleet) Known() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Collect(maps.Keys(f.online))
	slices.Sort(out)
	return out
}

func (f *simFleet) Send(ctx context.Context, host, cmd string, params map[string]any, by string) (string, bool, error) {
	return "", false, fmt.Errorf("simulated fleet: send not supported")
}

// heal records a heal command; false when it was superseded (onHeal).
func (f *simFleet) heal(cmd, target string) bool {
	f.mu.Lock()
	gate, hook := f.gate, f.onHeal
	f.heals = append(f.heals, cmd+" "+target)
	f.mu.Unlock()
	lost := hook != nil && hook(target)
	if gate != nil {
		<-gate
	}
	return !lost
}

func (f *simFleet) healsOf(target string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, h := range f.heals {
		if strings.HasSuffix(h, " "+target) {
			n++
		}
	}
	return n
}

func (f *simFleet) fixService(s string) {
	f.mu.Lock()
	if !f.resist[s] {
		f.services[s] = "active"
	}
	f.mu.Unlock()
}

func (f *simFleet) Run(ctx context.Context, host, cmd string, params map[string]any, by string, timeout time.Duration) (map[string]any, error) {
	f.mu.Lock()
	on := f.online[host]
	f.mu.Unlock()
	if !on {
		return nil, fmt.Errorf("agent %s offline", host)
	}
	ok := func(stdout string) map[string]any {
		return map[string]any{"status": "ok", "stdout": stdout, "exit_code": "0"}
	}
	switch cmd {
	case "container_control":
		c := str(params, "container")
		f.mu.Lock()
		nd := f.noDocker
		f.mu.Unlock()
		if nd {
			return map[string]any{"status": "error", "error": "docker: capability not available"}, nil
		}
		f.heal(cmd, c)
		f.mu.Lock()
		f.containers[c] = true
		f.mu.Unlock()
		return ok(""), nil
	case "restart_service":
		s := str(params, "service")
		f.heal(cmd, s)
		f.fixService(s)
		return ok(""), nil
	case "check_service":
		f.mu.Lock()
		st := f.services[str(params, "service")]
		f.mu.Unlock()
		if st == "failed" {
			return map[string]any{"status": "ok", "exit_code": "3"}, nil
		}
		return ok("active"), nil
	case "exec":
		argv := strings.Fields(str(params, "command"))
		if r, ok := f.procExec(argv); ok {
			return r, nil
		}
		switch {
		case len(argv) >= 2 && argv[0] == "docker" && argv[1] == "inspect":
			f.mu.Lock()
			run := f.containers[argv[len(argv)-1]]
			f.mu.Unlock()
			return ok(map[bool]string{true: "true false", false: "false false"}[run]), nil
		case len(argv) >= 3 && argv[0] == "systemctl":
			if !f.heal("systemctl "+argv[1], argv[2]) {
				return map[string]any{"status": "error", "error": "Job for " + argv[2] + ".service canceled."}, nil
			}
			f.fixService(argv[2])
			return ok(""), nil
		case len(argv) >= 1 && (argv[0] == "docker" || argv[0] == "podman"):
			f.heal(argv[0]+" "+strings.Join(argv[1:len(argv)-1], " "), argv[len(argv)-1])
			return ok(""), nil
		}
		if len(argv) > 0 {
			f.heal(argv[0], argv[len(argv)-1])
		}
		return ok(""), nil
	}
	return map[string]any{"status": "error", "error": "simulated fleet: unknown command " + cmd}, nil
}

// stubApprovals records approval requests; nobody answers them.
type stubApprovals struct {
	mu      sync.Mutex
	req     []string
	expired []int64
}

func (a *stubApprovals) RequestApproval(ctx context.Context, action string, params map[string]any, target, source, reason string) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.req = append(a.req, action+" "+target)
	return int64(len(a.req)), nil
}

func (a *stubApprovals) ExpireApproval(ctx context.Context, id int64, reason string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expired = append(a.expired, id)
	return nil
}

func (a *stubApprovals) count() int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.req) }

// fixedStats is the simulated collector.
type fixedStats struct {
	mu sync.Mutex
	m  map[string]any
}

func (s *fixedStats) Snapshot() *events.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return events.NewSnapshot(maps.Clone(s.m))
}

// sandbox is one isolated pipeline.
type sandbox struct {
	room   *Room
	fleet  *simFleet
	appr   *stubApprovals
	stats  *fixedStats
	clock  *vclock
	db     *db.DB
	dir    string
	events []map[string]any
}

func newSandbox(ctx context.Context, start time.Time) (*sandbox, error) {
	dir, err := os.MkdirTemp("", "noba-chaos-")
	if err != nil {
		return nil, err
	}
	d, err := db.Open(filepath.Join(dir, "chaos.db"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := db.Migrate(ctx, d); err != nil {
		_ = d.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &sandbox{fleet: newFleet(), appr: &stubApprovals{}, stats: &fixedStats{m: map[string]any{}}, clock: &vclock{t: start}, db: d, dir: dir}
	s.room = New(Deps{Store: NewStore(d), Agents: s.fleet, Approvals: s.appr, Stats: s.stats, Now: s.clock.Now, Settle: 1e-6,
		Window: 60 * time.Second, Sandbox: true, ResolvConf: filepath.Join(dir, "resolv.conf"),
		Log: discardLog()})
	return s, nil
}

func (s *sandbox) close() {
	s.room.Wait()
	_ = s.db.Close()
	_ = os.RemoveAll(s.dir)
}

func (s *sandbox) store() *Store { return s.room.d.Store }

// process raises one synthetic event and records its outcome.
func (s *sandbox) process(ctx context.Context, e Event) (Outcome, error) {
	e.Hostname = orDefault(e.Hostname, chaosHost)
	if len(e.Chain) == 0 {
		e.Chain = DefaultChain(e.RuleID)
	}
	o, err := s.room.Process(ctx, e)
	rec := map[string]any{"target": e.Target, "rule_id": e.RuleID, "stage": o.Stage}
	if o.Detail != "" {
		rec["detail"] = o.Detail
	}
	if err != nil {
		rec["error"] = err.Error()
	}
	s.events = append(s.events, rec)
	return o, err
}

func (s *sandbox) trust(ctx context.Context, rule string) error {
	_, err := s.store().UpsertTrust(ctx, rule, "execute", "execute", s.clock.Now().Unix())
	return err
}

func (s *sandbox) manifest(ctx context.Context, docker bool) error {
	m := map[string]any{"os": "linux", "capabilities": map[string]any{"docker": map[string]any{"available": docker},
		"systemctl": map[string]any{"available": true}}}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO capability_manifests (hostname, manifest, probed_at, degraded_capabilities) VALUES (?,?,?,?)`,
		chaosHost, jsonText(m), s.clock.Now().Unix(), "[]")
	return err
}

func (s *sandbox) ledger(ctx context.Context) ([]LedgerRow, error) {
	rows, err := s.store().Ledger(ctx, 1000, "", "")
	slices.Reverse(rows) // oldest first
	return rows, err
}

// runLive runs sc against a fresh sandbox and fills out (status,
// expectations' actual/passed, inject_result).
func (r *Room) runLive(ctx context.Context, sc *Scenario, out map[string]any) {
	ctx, cancel := context.WithTimeout(ctx, chaosTimeout)
	defer cancel()
	select {
	case r.chaos <- struct{}{}:
		defer func() { <-r.chaos }()
	case <-ctx.Done():
		out["status"], out["message"] = "error", "Another live chaos run did not finish in time"
		return
	}
	type res struct {
		actual map[string]any
		inject map[string]any
		err    error
	}
	done := make(chan res, 1)
	go func() {
		sb, err := newSandbox(context.WithoutCancel(ctx), r.now())
		if err != nil {
			done <- res{err: err}
			return
		}
		defer sb.close()
		act, inj, err := sb.run(ctx, sc)
		sb.room.Wait()
		if err == nil {
			act, err = sb.observe(ctx, sc, act)
		}
		inj["events"] = sb.events
		done <- res{actual: act, inject: inj, err: err}
	}()
	var rr res
	select {
	case rr = <-done:
	case <-ctx.Done():
		out["status"], out["message"] = "error", "Live chaos run timed out after "+chaosTimeout.String()
		return
	}
	if rr.err != nil {
		out["status"], out["message"] = "error", "Live chaos run failed: "+rr.err.Error()
		return
	}
	out["inject_result"] = rr.inject
	all := true
	exps := make([]map[string]any, 0, len(sc.expectations))
	for _, e := range sc.expectations {
		check := e[0].(string)
		v, has := rr.actual[check]
		passed := has && v != nil && fmt.Sprint(v) == fmt.Sprint(e[1])
		all = all && passed
		if !has {
			v = nil
		}
		exps = append(exps, map[string]any{"check": check, "expected": e[1], "actual": v, "passed": passed})
	}
	out["expectations"] = exps
	out["status"] = map[bool]string{true: "passed", false: "failed"}[all]
}

// run applies the injection and raises the scenario's synthetic events.
// It returns the observations only the run itself can see.
func (sb *sandbox) run(ctx context.Context, sc *Scenario) (map[string]any, map[string]any, error) {
	f := sb.fleet
	inj := map[string]any{"action": sc.Inject["action"], "target": sc.Inject["target"], "applied": true}
	act := map[string]any{}
	e := sc.event
	if err := sb.trust(ctx, e.RuleID); err != nil {
		return nil, inj, err
	}
	if err := sb.manifest(ctx, true); err != nil {
		return nil, inj, err
	}
	store := sb.store()
	now := sb.clock.Now().Unix()
	site := "site-a"
	switch sc.Inject["action"] {
	case "stop_container":
		f.containers[e.Target] = false
		if e.Target == "upstream-dep" {
			// A downstream container depends on the stopped one; its
			// failure is raised while the upstream restart is in flight.
			if err := store.ReplaceConfigNodes(ctx, []Node{{Target: "upstream-dep", DependsOn: "[]", NodeType: "container"},
				{Target: "downstream-app", DependsOn: `["upstream-dep"]`, NodeType: "container"}}, now); err != nil {
				return nil, inj, err
			}
			if err := sb.trust(ctx, "container_down:downstream-app"); err != nil {
				return nil, inj, err
			}
			f.containers["downstream-app"] = false
			f.gate = make(chan struct{})
			if _, err := sb.process(ctx, e); err != nil {
				return nil, inj, err
			}
			_, err := sb.process(ctx, ev("container_down:downstream-app", "downstream-app", "container_running == 0"))
			close(f.gate)
			return act, inj, err
		}
		_, err := sb.process(ctx, e)
		return act, inj, err
	case "corrupt_service":
		f.services[e.Target], f.resist[e.Target] = "failed", true
		_, err := sb.process(ctx, e)
		return act, inj, err
	case "block_site", "flap_connectivity":
		if err := store.ReplaceConfigNodes(ctx, []Node{{Target: e.Target, DependsOn: "[]", NodeType: "service", Site: &site},
			{Target: "site-a-agent", DependsOn: "[]", NodeType: "host", Site: &site}}, now); err != nil {
			return nil, inj, err
		}
		f.services[e.Target] = "failed"
		cycles := 1
		if n, ok := num(sc.Inject["cycles"]); ok {
			cycles = int(n)
		}
		for range cycles {
			f.mu.Lock()
			f.online["site-a-agent"] = false
			f.mu.Unlock()
			if _, err := sb.process(ctx, e); err != nil {
				return nil, inj, err
			}
			if sc.Inject["action"] == "flap_connectivity" {
				f.mu.Lock()
				f.online["site-a-agent"] = true
				f.mu.Unlock()
				sb.clock.Advance(5 * time.Second)
			}
		}
		inj["cycles"] = cycles
		return act, inj, nil
	case "flap_service":
		// The service fails again right after every heal: verification
		// never sees it healthy.
		f.services[e.Target], f.resist[e.Target] = "failed", true
		cycles := 10
		if n, ok := num(sc.Inject["cycles"]); ok {
			cycles = int(n)
		}
		for range cycles {
			if _, err := sb.process(ctx, e); err != nil {
				return nil, inj, err
			}
			sb.room.Wait()
			sb.clock.Advance(61 * time.Second)
		}
		inj["cycles"] = cycles
		return act, inj, nil
	case "pause_collector":
		// The collector stopped 120 s ago: its last snapshot (cpu high) is stale.
		sb.stats.mu.Lock()
		sb.stats.m = map[string]any{"cpu_percent": 95.0, "timestamp": float64(sb.clock.Now().Add(-120 * time.Second).Unix())}
		sb.stats.mu.Unlock()
		e.Metrics = metricsOf(sb.stats.Snapshot())
		_, err := sb.process(ctx, e)
		return act, inj, err
	case "remove_capability":
		f.containers[e.Target] = false
		f.noDocker = true
		if _, err := sb.db.W.ExecContext(ctx, `DELETE FROM capability_manifests`); err != nil {
			return nil, inj, err
		}
		if err := sb.manifest(ctx, false); err != nil {
			return nil, inj, err
		}
		_, err := sb.process(ctx, e)
		return act, inj, err
	case "enter_maintenance":
		f.services[e.Target] = "failed"
		exp := sb.clock.Now().Add(time.Hour).Unix()
		if _, err := store.InsertWindow(ctx, Window{Target: "all", DurationS: 3600, Reason: "chaos", Action: "suppress", CreatedBy: "chaos",
			CreatedAt: now, ExpiresAt: &exp}); err != nil {
			return nil, inj, err
		}
		o, err := sb.process(ctx, e)
		act["_stage"] = o.Stage
		return act, inj, err
	case "trigger_high_risk":
		// backup_stale's chain: trigger_backup (medium: runs at execute;
		// a local handler, so the sandbox refuses it and it fails), then
		// backup_verify, the last step reached by escalation, which waits
		// for approval (§6.22 plus the last-resort rule of requirement).
		// Nobody answers the approval: time passes beyond its timeout and
		// the pipeline's approval sweep runs.
		if _, err := sb.process(ctx, e); err != nil {
			return nil, inj, err
		}
		sb.room.Wait()
		sb.clock.Advance(sb.room.d.ApprovalTimeout + time.Second)
		return act, inj, sb.room.ExpireApprovals(ctx)
	case "scale_and_fail":
		// The app's process runs hot and stays hot whatever the heal does.
		f.procs = []*simProc{{pid: 4242, name: e.Target}, {pid: 77, name: "sshd"}}
		sb.stats.mu.Lock()
		sb.stats.m = map[string]any{"cpu_percent": 95.0, "timestamp": sb.clock.Now().Unix()}
		sb.stats.mu.Unlock()
		e.Metrics = metricsOf(sb.stats.Snapshot())
		_, err := sb.process(ctx, e)
		return act, inj, err
	case "trigger_and_fix":
		// The operator restarts the service by hand as the first heal
		// command reaches the host: the operator's job wins and systemd
		// cancels the heal's (that command fails). The alert fires again
		// while the heal is in flight. Whatever the pipeline does next
		// must see that the service is back.
		f.services[e.Target] = "failed"
		f.gate = make(chan struct{})
		fixed := make(chan struct{})
		var once sync.Once
		f.onHeal = func(string) bool {
			first := false
			once.Do(func() {
				f.mu.Lock()
				f.services[e.Target] = "active"
				f.mu.Unlock()
				first = true
				close(fixed)
			})
			return first
		}
		if _, err := sb.process(ctx, e); err != nil {
			close(f.gate)
			return nil, inj, err
		}
		select {
		case <-fixed:
		case <-ctx.Done():
		}
		_, err := sb.process(ctx, e)
		close(f.gate)
		return act, inj, err
	}
	return nil, inj, fmt.Errorf("unknown inject action %v", sc.Inject["action"])
}

// observe reads each check's actual value from the sandbox's state.
// Checks absent from the map are ones the pipeline has no notion of.
func (sb *sandbox) observe(ctx context.Context, sc *Scenario, act map[string]any) (map[string]any, error) {
	rows, err := sb.ledger(ctx)
	if err != nil {
		return nil, err
	}
	e := sc.event
	heals := func(pred func(LedgerRow) bool) []LedgerRow {
		var out []LedgerRow
		for _, l := range rows {
			if l.ActionType != "suppressed" && pred(l) {
				out = append(out, l)
			}
		}
		return out
	}
	of := func(t string) func(LedgerRow) bool { return func(l LedgerRow) bool { return l.Target == t } }
	suppressed := func(t string) *LedgerRow {
		for _, l := range rows {
			if l.Target == t && l.ActionType == "suppressed" {
				return &l
			}
		}
		return nil
	}
	siteSuspect := func() bool {
		for _, l := range rows {
			if l.SuppressedBy != nil && strings.HasPrefix(*l.SuppressedBy, "Site site-a connectivity suspect") {
				return true
			}
		}
		return false
	}
	sb.room.p.mu.Lock()
	counts := maps.Clone(sb.room.p.counts)
	sb.room.p.mu.Unlock()
	tr, _, err := sb.store().Trust(ctx, e.RuleID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	switch sc.Name {
	case "container_crash_recovery":
		h := heals(of(e.Target))
		out["heal_triggered"] = len(h) > 0
		if len(h) > 0 {
			out["action_taken"] = h[0].ActionType
		}
		out["verified"] = slices.ContainsFunc(h, func(l LedgerRow) bool { return l.Verified == 1 })
	case "dependency_cascade_suppression":
		if h := heals(func(LedgerRow) bool { return true }); len(h) > 0 {
			out["heal_triggered_for"] = h[0].Target
		}
		s := suppressed("downstream-app")
		out["downstream_suppressed"] = s != nil && len(heals(of("downstream-app"))) == 0
		if s != nil && s.DependencyRoot != nil {
			out["root_cause_identified"] = *s.DependencyRoot
		}
	case "escalation_chain_walk":
		steps := map[int]bool{}
		h := heals(of(e.Target))
		for _, l := range h {
			steps[l.EscalationStep] = true
		}
		out["escalation_steps"] = len(steps)
		switch {
		case sb.appr.count() > 0:
			out["final_action"] = "approval_requested"
		case len(h) > 0:
			out["final_action"] = h[len(h)-1].ActionType
		}
	case "site_connectivity_isolation", "power_flicker_debounce":
		out["site_suspect"] = siteSuspect()
		out["heals_at_site"] = len(heals(of(e.Target))) + len(heals(of("site-a-agent")))
	case "heal_storm_circuit_breaker":
		out["circuit_breaker_tripped"] = counts["circuit_breaker"] > 0
		out["trust_demoted"] = rank(tr.CurrentLevel) < rank("execute")
	case "stale_metrics_guard":
		out["heals_triggered"] = len(heals(of(e.Target)))
		out["staleness_detected"] = slices.ContainsFunc(rows, func(l LedgerRow) bool {
			return l.Target == e.Target && l.SuppressedBy != nil && *l.SuppressedBy == suppressedStale
		})
	case "capability_mismatch":
		pf := false
		for _, l := range rows {
			pf = pf || (l.VerificationDetail != nil && strings.HasPrefix(*l.VerificationDetail, "preflight_failed"))
		}
		out["preflight_failed"] = pf
		sb.fleet.mu.Lock()
		running := sb.fleet.containers[e.Target]
		sb.fleet.mu.Unlock()
		out["action_aborted"] = !running && !slices.ContainsFunc(heals(of(e.Target)), func(l LedgerRow) bool {
			return l.ActionSuccess != nil && *l.ActionSuccess == 1
		})
	case "maintenance_window_suppression":
		out["heals_suppressed"] = act["_stage"] == "maintenance" && len(heals(of(e.Target))) == 0 && sb.fleet.healsOf(e.Target) == 0
	case "approval_timeout":
		out["approval_requested"] = sb.appr.count() > 0
		out["auto_denied"] = slices.ContainsFunc(rows, func(l LedgerRow) bool {
			return l.Target == e.Target && l.ApprovalID != nil && l.VerificationDetail != nil &&
				strings.HasPrefix(*l.VerificationDetail, approvalAutoDenied)
		})
	case "rollback_on_failure":
		rb := false
		restored := false
		for _, l := range rows {
			if l.RollbackStatus != nil {
				rb = true
				restored = restored || *l.RollbackStatus == "rolled_back"
			}
		}
		// Restored: the rollback says so and the process is back at the
		// priority it had before the heal.
		sb.fleet.mu.Lock()
		if p := sb.fleet.proc("4242"); p == nil || p.nice != 0 || !slices.Contains(sb.fleet.heals, "renice "+e.Target) {
			restored = false
		}
		sb.fleet.mu.Unlock()
		out["rollback_triggered"] = rb
		out["state_restored"] = restored
	case "manual_fix_race":
		out["resolved_externally"] = slices.ContainsFunc(heals(of(e.Target)), func(l LedgerRow) bool {
			return l.ActionSuccess == nil && l.VerificationDetail != nil && strings.HasPrefix(*l.VerificationDetail, resolvedExternally)
		})
		out["no_duplicate_action"] = sb.fleet.healsOf(e.Target) == 1
	}
	return out, nil
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// ChaosRuns returns the latest stored live chaos runs.
func (r *Room) ChaosRuns(ctx context.Context, limit int) ([]map[string]any, error) {
	return r.d.Store.ChaosRuns(ctx, limit)
}
