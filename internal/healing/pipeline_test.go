package healing

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/db"
)

// pipe is a production pipeline on a real SQLite in t.TempDir() with the
// in-process fakes of the chaos harness (fleet, approvals, collector,
// clock) as its dependencies.
type pipe struct {
	r     *Room
	fleet *simFleet
	appr  *stubApprovals
	stats *fixedStats
	clock *vclock
	db    *db.DB
	notes *notes
}

// notes records notifications.
type notes struct {
	mu     sync.Mutex
	titles []string
}

func (n *notes) Notify(ctx context.Context, level, title, message string) error {
	n.mu.Lock()
	n.titles = append(n.titles, title)
	n.mu.Unlock()
	return nil
}

func (n *notes) has(title string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, t := range n.titles {
		if t == title {
			return true
		}
	}
	return false
}

func newPipe(t *testing.T) *pipe {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(filepath.Join(t.TempDir(), "heal.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	p := &pipe{fleet: newFleet(), appr: &stubApprovals{}, stats: &fixedStats{m: map[string]any{}},
		clock: &vclock{t: time.Unix(1_800_000_000, 0)}, db: d, notes: &notes{}}
	p.r = New(Deps{Store: NewStore(d), Agents: p.fleet, Approvals: p.appr, Stats: p.stats, Notify: p.notes, Now: p.clock.Now, Settle: 1e-6,
		Sandbox: true, ResolvConf: filepath.Join(t.TempDir(), "resolv.conf"), Log: discardLog()})
	t.Cleanup(func() {
		p.r.Wait()
		_ = d.Close()
	})
	m := map[string]any{"os": "linux", "capabilities": map[string]any{"docker": map[string]any{"available": true},
		"systemctl": map[string]any{"available": true}}}
	if _, err := d.W.ExecContext(ctx, `INSERT INTO capability_manifests (hostname, manifest, probed_at, degraded_capabilities) VALUES (?,?,?,?)`,
		chaosHost, jsonText(m), p.clock.Now().Unix(), "[]"); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pipe) trust(t *testing.T, rule, level string) {
	t.Helper()
	if _, err := p.r.d.Store.UpsertTrust(context.Background(), rule, level, "execute", p.clock.Now().Unix()); err != nil {
		t.Fatal(err)
	}
}

func (p *pipe) setStats(m map[string]any) {
	p.stats.mu.Lock()
	p.stats.m = m
	p.stats.mu.Unlock()
}

// process runs one event (host chaosHost, default chain unless given) and
// waits for its heals.
func (p *pipe) process(t *testing.T, e Event) Outcome {
	t.Helper()
	e.Hostname = orDefault(e.Hostname, chaosHost)
	if len(e.Chain) == 0 {
		e.Chain = DefaultChain(e.RuleID)
	}
	o, err := p.r.Process(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	p.r.Wait()
	return o
}

func (p *pipe) ledger(t *testing.T) []LedgerRow {
	t.Helper()
	rows, err := p.r.d.Store.Ledger(context.Background(), 1000, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return rows
}

func (p *pipe) heals() int {
	p.fleet.mu.Lock()
	defer p.fleet.mu.Unlock()
	return len(p.fleet.heals)
}

// A metric event is not acted on while the collector snapshot is older
// than twice its interval (the guard records why); a fresh snapshot, or a
// condition the snapshot does not carry, is acted on.
func TestStaleMetricsGuard(t *testing.T) {
	for _, tc := range []struct {
		name      string
		age       time.Duration
		cond      string
		wantStage string
	}{
		{"stale metric", 120 * time.Second, "cpu_percent > 90", "stale"},
		{"just stale", 11 * time.Second, "cpu_percent > 90", "stale"},
		{"fresh metric", 4 * time.Second, "cpu_percent > 90", "execute"},
		{"no timestamp", -1, "cpu_percent > 90", "execute"},
		{"stale but service condition", 120 * time.Second, "service_status == failed", "execute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipe(t)
			p.trust(t, "cpu_crit", "execute")
			snap := map[string]any{"cpu_percent": 95.0}
			if tc.age >= 0 {
				snap["timestamp"] = p.clock.Now().Add(-tc.age).Unix()
			}
			p.setStats(snap)
			o := p.process(t, Event{Source: "threshold", RuleID: "cpu_crit", Target: "system", Condition: tc.cond,
				Chain: []Step{{Action: "clear_cache", Params: map[string]any{"target": "system"}}}})
			if o.Stage != tc.wantStage {
				t.Fatalf("got stage %q (%s), want %q", o.Stage, o.Detail, tc.wantStage)
			}
			rows := p.ledger(t)
			if tc.wantStage != "stale" {
				if len(rows) == 0 || rows[0].ActionType != "clear_cache" {
					t.Fatalf("got ledger %+v, want a clear_cache row", rows)
				}
				return
			}
			if len(rows) != 1 || rows[0].ActionType != "suppressed" || rows[0].SuppressedBy == nil || *rows[0].SuppressedBy != "stale_metrics" ||
				rows[0].ActionSuccess != nil || rows[0].VerificationDetail == nil {
				t.Fatalf("got ledger %+v, want one stale_metrics row", rows)
			}
			if n := p.heals(); n != 0 {
				t.Fatalf("got %d commands on the host, want 0", n)
			}
			if p.r.p.counts["stale_metrics"] != 1 {
				t.Fatalf("got counts %v", p.r.p.counts)
			}
		})
	}
}

// Dispatch by §6.22 requirement(risk, trust): at execute trust a high-risk
// action waits for approval at any step, a medium one runs and is
// announced, a low one runs; at approve trust everything waits; the last
// step of a chain reached because every earlier step failed waits too.
func TestApprovalRequirement(t *testing.T) {
	svc := Event{Source: "alert", RuleID: "svc_web", Target: "web", Condition: "service_status == failed"}
	for _, tc := range []struct {
		name      string
		trust     string
		chain     []Step
		resist    bool
		wantStage string
		wantSteps []string // ledger: action@step, "?" marks an approval row
		wantNote  string
	}{
		{"high at step 0", "execute", []Step{{Action: "run_playbook", Params: map[string]any{"playbook_id": "pb"}}}, false,
			"approve", []string{"run_playbook@0?"}, "Heal approval"},
		{"medium runs and tells", "execute", []Step{{Action: "service_dependency_restart"}}, false,
			"execute", []string{"service_dependency_restart@0"}, "Heal executing"},
		{"low runs", "execute", []Step{{Action: "restart_service"}}, false, "execute", []string{"restart_service@0"}, ""},
		{"approve trust", "approve", []Step{{Action: "restart_service"}}, false, "approve", []string{"restart_service@0?"}, "Heal approval"},
		{"resisting service walks to an approval", "execute", DefaultChain("svc_web"), true, "execute",
			[]string{"service_reset_failed@0", "restart_service@1", "service_dependency_restart@2?"}, "Heal approval"},
		{"fixed before the last step", "execute", DefaultChain("svc_web"), false, "execute", []string{"service_reset_failed@0"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipe(t)
			p.trust(t, svc.RuleID, tc.trust)
			p.fleet.services["web"], p.fleet.resist["web"] = "failed", tc.resist
			e := svc
			e.Chain = tc.chain
			if o := p.process(t, e); o.Stage != tc.wantStage {
				t.Fatalf("got stage %q (%s), want %q", o.Stage, o.Detail, tc.wantStage)
			}
			var got []string
			approvals := 0
			for _, l := range p.ledger(t) {
				s := l.ActionType + "@" + strconv.Itoa(l.EscalationStep)
				if l.ApprovalID != nil {
					s += "?"
					approvals++
					if l.ActionSuccess != nil {
						t.Errorf("approval row executed: %+v", l)
					}
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != strings.Join(tc.wantSteps, " ") {
				t.Fatalf("got ledger %v, want %v", got, tc.wantSteps)
			}
			if n := p.appr.count(); n != approvals {
				t.Fatalf("got %d approval requests, want %d", n, approvals)
			}
			if tc.wantNote != "" && !p.notes.has(tc.wantNote) {
				t.Fatalf("got notifications %v, want %q", p.notes.titles, tc.wantNote)
			}
		})
	}
}

// An approval nobody decides within ApprovalTimeout is auto-denied: its
// ledger row says so, the pending heal is dropped and approving it later
// runs nothing. One approved in time runs once and is not expired.
func TestApprovalTimeoutAutoDenies(t *testing.T) {
	ctx := context.Background()
	p := newPipe(t)
	p.trust(t, "svc_web", "approve")
	p.fleet.services["web"] = "failed"
	o := p.process(t, Event{Source: "alert", RuleID: "svc_web", Target: "web", Condition: "service_status == failed",
		Chain: []Step{{Action: "restart_service"}}})
	if o.Stage != "approve" || o.ApprovalID == 0 {
		t.Fatalf("got %+v, want an approval", o)
	}
	p.clock.Advance(p.r.d.ApprovalTimeout - time.Second)
	if err := p.r.ExpireApprovals(ctx); err != nil {
		t.Fatal(err)
	}
	if l := p.ledger(t)[0]; l.VerificationDetail != nil {
		t.Fatalf("expired before its timeout: %+v", *l.VerificationDetail)
	}
	p.clock.Advance(2 * time.Second)
	if err := p.r.ExpireApprovals(ctx); err != nil {
		t.Fatal(err)
	}
	rows := p.ledger(t)
	if len(rows) != 1 || rows[0].VerificationDetail == nil || !strings.HasPrefix(*rows[0].VerificationDetail, "auto_denied: no decision within 1h0m0s") {
		t.Fatalf("got ledger %+v, want the approval auto-denied", rows)
	}
	if p.r.p.counts["auto_denied"] != 1 || !p.notes.has("Heal approval expired") {
		t.Fatalf("got counts %v notes %v", p.r.p.counts, p.notes.titles)
	}
	res, handled := p.r.ApprovedExecute(ctx, strconv.FormatInt(o.ApprovalID, 10), "admin")
	p.r.Wait()
	if !handled || res.Success || !strings.Contains(res.Error, "auto-denied") {
		t.Fatalf("late approval: got %+v %v, want refused", res, handled)
	}
	if n, rows := p.heals(), p.ledger(t); n != 0 || len(rows) != 1 {
		t.Fatalf("late approval ran: %d commands, ledger %+v", n, rows)
	}

	// Approved in time: runs once; the sweep leaves it alone; a second
	// approval of the same request runs nothing.
	p.clock.Advance(61 * time.Second)
	o = p.process(t, Event{Source: "alert", RuleID: "svc_web", Target: "web", Condition: "service_status == failed",
		Chain: []Step{{Action: "restart_service"}}})
	id := strconv.FormatInt(o.ApprovalID, 10)
	if res, handled := p.r.ApprovedExecute(ctx, id, "admin"); !handled || !res.Success {
		t.Fatalf("approval: got %+v %v", res, handled)
	}
	p.clock.Advance(2 * p.r.d.ApprovalTimeout)
	if err := p.r.ExpireApprovals(ctx); err != nil {
		t.Fatal(err)
	}
	if res, handled := p.r.ApprovedExecute(ctx, id, "admin"); !handled || res.Success {
		t.Fatalf("second approval: got %+v %v, want refused", res, handled)
	}
	rows = p.ledger(t)
	if n := p.heals(); n != 1 || len(rows) != 3 || *rows[1].VerificationDetail != "approved by admin" || rows[2].Verified != 1 {
		t.Fatalf("got %d commands, ledger %+v", n, rows)
	}
	if p.r.p.counts["auto_denied"] != 1 {
		t.Fatalf("approved heal expired: %v", p.r.p.counts)
	}
}

// The pipeline re-checks the condition right before it acts: a target
// fixed by someone else meanwhile — while its approval waited, after an
// earlier step's command lost to the operator's, or a metric back to
// normal — is recorded as resolved externally and nothing runs.
func TestResolvedExternallyBeforeActing(t *testing.T) {
	ctx := context.Background()
	svc := Event{Source: "alert", RuleID: "svc_web", Target: "web", Condition: "service_status == failed"}
	resolved := func(t *testing.T, p *pipe, wantRows int) LedgerRow {
		t.Helper()
		rows := p.ledger(t)
		if len(rows) != wantRows {
			t.Fatalf("got ledger %+v, want %d rows", rows, wantRows)
		}
		l := rows[len(rows)-1]
		if l.ActionSuccess != nil || l.VerificationDetail == nil || !strings.HasPrefix(*l.VerificationDetail, "resolved_externally: ") {
			t.Fatalf("got last row %+v, want resolved externally", l)
		}
		if p.r.p.counts["resolved_externally"] != 1 {
			t.Fatalf("got counts %v", p.r.p.counts)
		}
		return l
	}

	t.Run("approved after the operator fixed it", func(t *testing.T) {
		p := newPipe(t)
		p.trust(t, svc.RuleID, "approve")
		p.fleet.services["web"] = "failed"
		e := svc
		e.Chain = []Step{{Action: "restart_service"}}
		o := p.process(t, e)
		p.fleet.fixService("web")
		res, handled := p.r.ApprovedExecute(ctx, strconv.FormatInt(o.ApprovalID, 10), "admin")
		if !handled || !res.Success || !strings.Contains(res.Output, "resolved externally") {
			t.Fatalf("got %+v %v", res, handled)
		}
		resolved(t, p, 2)
		if n := p.heals(); n != 0 {
			t.Fatalf("got %d commands, want 0", n)
		}
	})
	t.Run("operator's restart beats the first step", func(t *testing.T) {
		p := newPipe(t)
		p.trust(t, svc.RuleID, "execute")
		p.fleet.services["web"] = "failed"
		p.fleet.onHeal = func(string) bool {
			p.fleet.mu.Lock()
			p.fleet.services["web"] = "active"
			p.fleet.mu.Unlock()
			return true
		}
		if o := p.process(t, svc); o.Stage != "execute" {
			t.Fatalf("got %+v", o)
		}
		l := resolved(t, p, 2)
		if first := p.ledger(t)[0]; first.ActionSuccess == nil || *first.ActionSuccess != 0 || l.ActionType != "restart_service" || l.EscalationStep != 1 {
			t.Fatalf("got ledger %+v", p.ledger(t))
		}
		if n := p.heals(); n != 1 {
			t.Fatalf("got %d commands, want 1", n)
		}
		// The heal is over (its escalation cleared): the next alert is
		// a new heal.
		p.clock.Advance(61 * time.Second)
		p.fleet.mu.Lock()
		p.fleet.onHeal = nil
		p.fleet.services["web"] = "failed"
		p.fleet.mu.Unlock()
		if o := p.process(t, svc); o.Stage != "execute" {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("metric back to normal", func(t *testing.T) {
		p := newPipe(t)
		p.trust(t, "cpu_crit", "execute")
		p.setStats(map[string]any{"cpu_percent": 40.0, "timestamp": p.clock.Now().Unix()})
		p.process(t, Event{Source: "threshold", RuleID: "cpu_crit", Target: "system", Condition: "cpu_percent > 90",
			Chain: []Step{{Action: "clear_cache", Params: map[string]any{"target": "system"}}}})
		resolved(t, p, 1)
		if n := p.heals(); n != 0 {
			t.Fatalf("got %d commands, want 0", n)
		}
	})
	t.Run("disk back to normal, as the host collector reports it", func(t *testing.T) {
		// The collector builds disks as []map[string]any: disk_percent
		// is the fullest of them (events.Snapshot.Metrics).
		p := newPipe(t)
		p.trust(t, "disk_rule", "execute")
		p.setStats(map[string]any{"cpuPercent": 12.0, "timestamp": p.clock.Now().Unix(),
			"disks": []map[string]any{{"mount": "/", "percent": 41.0}, {"mount": "/srv", "percent": 63.0}}})
		p.process(t, Event{Source: "alert", RuleID: "disk_rule", Target: "/srv", Condition: "disk_percent >= 90",
			Chain: []Step{{Action: "clear_cache", Params: map[string]any{"target": "system"}}}})
		l := resolved(t, p, 1)
		if !strings.Contains(*l.VerificationDetail, "disk_percent") {
			t.Fatalf("got %+v", l)
		}
		if n := p.heals(); n != 0 {
			t.Fatalf("got %d commands, want 0", n)
		}
	})
	t.Run("still failing: acts", func(t *testing.T) {
		p := newPipe(t)
		p.trust(t, svc.RuleID, "execute")
		p.fleet.services["web"] = "failed"
		p.process(t, svc)
		if rows := p.ledger(t); len(rows) != 1 || rows[0].Verified != 1 || p.heals() != 1 {
			t.Fatalf("got ledger %+v, %d commands", rows, p.heals())
		}
	})
}

// A process action of a default chain acts on the target's process (pid
// from the event, else the process named as the target; none is guessed
// for "system"); nice_adjust is reversible, so its priority is
// snapshotted first and, when verification fails, restored automatically.
func TestProcessActionSnapshotAndRollback(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, rule, target string
		metrics            map[string]any
		wantPID            int // 0: none found
	}{
		{"named process", "cpu_high:web-app", "web-app", nil, 4242},
		{"pid from the event", "cpu_high:web-app", "web-app", map[string]any{"pid": 77.0}, 77},
		{"no such process", "cpu_high:gone", "gone", nil, 0},
		{"system names no process", "cpu_high", "system", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipe(t)
			p.trust(t, tc.rule, "execute")
			p.fleet.procs = []*simProc{{pid: 4242, name: "web-app", nice: 5}, {pid: 77, name: "sshd", nice: -2}}
			p.setStats(map[string]any{"cpu_percent": 95.0, "timestamp": p.clock.Now().Unix()})
			metrics := map[string]any{"cpu_percent": 95.0}
			for k, v := range tc.metrics {
				metrics[k] = v
			}
			p.process(t, Event{Source: "alert", RuleID: tc.rule, Target: tc.target, Condition: "cpu_percent > 80", Metrics: metrics})
			rows := p.ledger(t)
			if len(rows) != 1 || rows[0].ActionType != "nice_adjust" {
				t.Fatalf("got ledger %+v, want one nice_adjust row", rows)
			}
			l := rows[0]
			if tc.wantPID == 0 {
				if l.ActionSuccess == nil || *l.ActionSuccess != 0 || !strings.Contains(*l.VerificationDetail, "No process found for "+tc.target) ||
					l.SnapshotID != nil || p.heals() != 0 {
					t.Fatalf("got %+v, want a failed heal with no snapshot", l)
				}
				return
			}
			if !strings.Contains(l.ActionParams, `"pid":`+strconv.Itoa(tc.wantPID)) {
				t.Fatalf("got params %s, want pid %d", l.ActionParams, tc.wantPID)
			}
			if l.ActionSuccess == nil || *l.ActionSuccess != 1 || l.Verified != 0 || l.SnapshotID == nil ||
				l.RollbackStatus == nil || *l.RollbackStatus != "rolled_back" {
				t.Fatalf("got %+v, want executed, unverified, snapshotted and rolled back", l)
			}
			_, act, _, st, err := p.r.d.Store.SnapshotFor(ctx, l.ID)
			if err != nil || act != "nice_adjust" || str(st, "pid") != strconv.Itoa(tc.wantPID) {
				t.Fatalf("got snapshot %s %v %v", act, st, err)
			}
			p.fleet.mu.Lock()
			defer p.fleet.mu.Unlock()
			for _, pr := range p.fleet.procs {
				if want := map[int]int{4242: 5, 77: -2}[pr.pid]; pr.nice != want {
					t.Errorf("process %d nice %d after rollback, want %d", pr.pid, pr.nice, want)
				}
			}
			if len(p.fleet.heals) != 2 {
				t.Errorf("got commands %v, want renice and its reverse", p.fleet.heals)
			}
		})
	}
}
