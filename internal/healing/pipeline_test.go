package healing

import (
	"context"
	"path/filepath"
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
		clock: &vclock{t: time.Unix(1_800_000_000, 0)}, db: d}
	p.r = New(Deps{Store: NewStore(d), Agents: p.fleet, Approvals: p.appr, Stats: p.stats, Now: p.clock.Now, Settle: 1e-6,
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
