package alerts_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/alerts"
	"github.com/noba-go/noba/internal/wire/condition"
)

// benchSnapshot is a stats payload of realistic size: 8 disks, 30
// services, 16 containers, 10 agents, a few integration blocks.
func benchSnapshot() map[string]any {
	snap := map[string]any{"cpuPercent": 12.3, "memPercent": 41, "cpuTemp": "52°C", "gpuTemp": "N/A", "netRxRaw": 12345.0,
		"netTxRaw": 678.0, "loadavg": "0.5 0.6 0.7", "hostname": "bench", "uptime": "3d 2h"}
	var disks, svcs, ctrs, agents []any
	for i := range 8 {
		disks = append(disks, map[string]any{"mount": fmt.Sprintf("/d%d", i), "percent": 40 + i, "barClass": "success"})
	}
	for i := range 30 {
		svcs = append(svcs, map[string]any{"name": fmt.Sprintf("svc%d", i), "status": "active", "is_user": false})
	}
	for i := range 16 {
		ctrs = append(ctrs, map[string]any{"id": "abc", "name": fmt.Sprintf("c%d", i), "state": "running"})
	}
	for i := range 10 {
		agents = append(agents, map[string]any{"hostname": fmt.Sprintf("a%d", i), "cpu_percent": 10.0 + float64(i), "mem_percent": 30.0,
			"online": true, "disks": []any{map[string]any{"mount": "/", "percent": 50}}})
	}
	snap["disks"], snap["services"], snap["containers"], snap["agents"] = disks, svcs, ctrs, agents
	snap["pihole"] = map[string]any{"queries": 1000, "blocked": 100, "percent": 10.0, "status": "enabled"}
	snap["cpuHistory"] = []any{1.0, 2.0, 3.0}
	return snap
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := condition.Parse("cpu_percent > 80 AND disks[0].percent >= 90.5 AND agents[3].mem_percent < 20"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFlatten(b *testing.B) {
	snap := benchSnapshot()
	for b.Loop() {
		alerts.Flatten(snap)
	}
}

// BenchmarkEvaluate is one evaluation cycle with 50 rules (none firing)
// on a real SQLite database and config.yaml.
func BenchmarkEvaluate(b *testing.B) {
	var rules strings.Builder
	for i := range 50 {
		fmt.Fprintf(&rules, "    - {id: r%d, condition: \"cpu_percent > %d AND mem_percent > 95\"}\n", i, 50+i%40)
	}
	e := newEngineB(b, rules.String())
	r := alerts.New(alerts.Deps{Store: alerts.NewStore(e.d), Settings: e.settings, Now: e.clk.now})
	snap := benchSnapshot()
	ctx := context.Background()
	for b.Loop() {
		if err := r.Evaluate(ctx, snap); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateAgents1000 is one evaluation cycle with 50 rules while
// 1,000 agents have reported.
func BenchmarkEvaluateAgents1000(b *testing.B) {
	var rules strings.Builder
	for i := range 50 {
		fmt.Fprintf(&rules, "    - {id: r%d, condition: \"agent_bench_%04d.cpu_percent > %d AND mem_percent > 95\"}\n", i, i*20, 50+i%40)
	}
	e := newEngineB(b, rules.String())
	r := alerts.New(alerts.Deps{Store: alerts.NewStore(e.d), Settings: e.settings, Now: e.clk.now})
	for i := range 1000 {
		observeBenchAgent(r, fmt.Sprintf("bench-%04d", i))
	}
	snap := benchSnapshot()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Evaluate(ctx, snap); err != nil {
			b.Fatal(err)
		}
	}
}
