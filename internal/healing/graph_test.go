package healing

import (
	"testing"
	"time"
)

func TestGraphRootCauseAndSites(t *testing.T) {
	g := &Graph{nodes: map[string]gnode{
		"router": {target: "router", nodeType: "infrastructure", site: "site-a"},
		"nas":    {target: "nas", site: "site-a", deps: []string{"network:router"}},
		"plex":   {target: "plex", deps: []string{"nas"}},
		"web":    {target: "web", deps: []string{"plex"}},
		"hostb":  {target: "hostb", site: "site-b"},
	}}
	if got := g.Ancestors("web"); len(got) != 3 || got[0] != "plex" || got[2] != "router" {
		t.Fatalf("ancestors: %v", got)
	}
	root, sup := g.RootCause([]string{"web", "nas", "plex"})
	if root != "nas" || len(sup) != 2 {
		t.Fatalf("root %s %v", root, sup)
	}
	active := map[string]time.Time{"nas": time.Now()}
	if r, why := g.Suppress("web", active, nil); r != "nas" || why != "Downstream of root cause: nas" {
		t.Fatalf("suppress: %s %s", r, why)
	}
	if _, why := g.Suppress("nas", active, nil); why != "" {
		t.Fatalf("root suppressed: %s", why)
	}
	sites := g.SuspectSites([]string{"nas", "hostb"}, []string{"hostb"})
	if len(sites) != 1 || sites["site-a"] == "" {
		t.Fatalf("sites: %v", sites)
	}
	if r, why := g.Suppress("nas", nil, sites); r != "site-a" || why == "" {
		t.Fatalf("site suppress: %s %s", r, why)
	}
}

func TestParseDurationAndConditions(t *testing.T) {
	for in, want := range map[string]int64{"2h30m": 9000, "90s": 90, "90": 90, "1h": 3600} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Fatalf("%s: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "soon", "0", "-5"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	m := map[string]any{"cpu_percent": 95.0, "mem_percent": 20.0}
	if met, ok := evalCondition("cpu_percent > 90 AND mem_percent < 50", anyGet(m)); !ok || !met {
		t.Fatal("and")
	}
	if met, ok := evalCondition("cpu_percent < 10 OR mem_percent < 50", anyGet(m)); !ok || !met {
		t.Fatal("or")
	}
	// One grammar with alert rules: lower-case joins do not parse.
	if _, ok := evalCondition("cpu_percent > 90 and mem_percent < 50", anyGet(m)); ok {
		t.Fatal("lower-case and evaluated")
	}
	if _, ok := evalCondition("service_status == failed", anyGet(m)); ok {
		t.Fatal("unverifiable condition evaluated")
	}
	if _, ok := evalCondition("disk_percent >= 90", anyGet(m)); ok {
		t.Fatal("absent metric evaluated")
	}
}

func TestRegistryHas55Actions(t *testing.T) {
	acts := registry()
	if len(acts) != 55 {
		t.Fatalf("%d actions", len(acts))
	}
	risks := map[string]int{}
	for name, a := range acts {
		risks[a.Risk]++
		if a.agent == nil && a.chain == nil && a.local == nil && a.refuse == nil {
			t.Fatalf("%s has no handler", name)
		}
	}
	if risks["low"] != 20 || risks["medium"] != 22 || risks["high"] != 13 {
		t.Fatalf("risks: %v", risks)
	}
}
