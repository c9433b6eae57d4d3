package intelligence_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

func sha(b string) string {
	s := sha256.Sum256([]byte(b))
	return hex.EncodeToString(s[:])
}

type driftResults struct {
	Baseline map[string]any   `json:"baseline"`
	Results  []map[string]any `json:"results"`
}

// TestDriftEndToEnd runs drift checks through a real agent process: match,
// drift (with its alert and incident), set-from-agent, match again.
func TestDriftEndToEnd(t *testing.T) {
	env := servertest.NewWith(t, servertest.Setup{Jobs: true})
	startAgent(t, env, "drift-host")
	admin, op, viewer := env.Token("admin"), env.Token("operator"), env.Token("viewer")

	file := filepath.Join(t.TempDir(), "app.conf")
	if err := os.WriteFile(file, []byte("listen 80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var created map[string]any
	if st := env.JSON("POST", "/api/baselines", admin, map[string]any{"path": file, "expected_hash": sha("listen 80\n"), "agent_group": "drift-host"}, &created); st != 200 {
		t.Fatalf("create: %d %v", st, created)
	}
	id := int(created["id"].(float64))
	// A second baseline for a file that does not exist on the agent.
	missing := filepath.Join(t.TempDir(), "nope.conf")
	env.JSON("POST", "/api/baselines", admin, map[string]any{"path": missing, "expected_hash": sha("x")}, &created)
	missingID := int(created["id"].(float64))

	// check triggers runs until the host's latest row of baseline bid has
	// status want (a run triggered earlier may still be in flight).
	check := func(bid int, want string) map[string]any {
		t.Helper()
		var row map[string]any
		var last time.Time
		waitFor(t, 40*time.Second, "drift result "+want, func() bool {
			if time.Since(last) > time.Second {
				if st := env.JSON("POST", "/api/baselines/check", op, nil, nil); st != 200 {
					t.Fatalf("check: %d", st)
				}
				last = time.Now()
			}
			var res driftResults
			env.JSON("GET", fmt.Sprintf("/api/baselines/%d/results", bid), viewer, nil, &res)
			for _, r := range res.Results {
				if r["hostname"] == "drift-host" && r["status"] == want {
					row = r
					return true
				}
			}
			return false
		})
		return row
	}
	row := check(id, "match")
	if row["status"] != "match" || row["actual_hash"] != sha("listen 80\n") || row["path"] != file {
		t.Fatalf("first check: %v", row)
	}
	mrow := check(missingID, "drift")
	if mrow["status"] != "drift" || mrow["actual_hash"] != nil {
		t.Errorf("missing file: %v", mrow)
	}

	// The file changes: drift, an alert and an incident.
	if err := os.WriteFile(file, []byte("listen 8080\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	row = check(id, "drift")
	if row["status"] != "drift" || row["actual_hash"] != sha("listen 8080\n") {
		t.Fatalf("after change: %v", row)
	}
	var list []map[string]any
	env.JSON("GET", "/api/baselines", viewer, nil, &list)
	for _, b := range list {
		if int(b["id"].(float64)) == id && (b["status"] != "drift" || b["drift_count"] != 1.0 || b["agent_count"] != 1.0) {
			t.Errorf("baseline list entry: %v", b)
		}
	}
	var incidents []map[string]any
	env.JSON("GET", "/api/incidents", viewer, nil, &incidents)
	wantTitle := fmt.Sprintf("Config drift detected: %s on drift-host (expected %s..., got %s...)", file, sha("listen 80\n")[:16], sha("listen 8080\n")[:16])
	found := false
	for _, inc := range incidents {
		if inc["title"] == wantTitle && inc["source"] == "config_drift" && inc["severity"] == "warning" {
			found = true
		}
	}
	if !found {
		t.Errorf("no drift incident %q in %v", wantTitle, incidents)
	}

	// Accept the new content as the baseline from the agent.
	var sf map[string]any
	if st := env.JSON("POST", fmt.Sprintf("/api/baselines/%d/set-from/drift-host", id), admin, nil, &sf); st != 200 || sf["expected_hash"] != sha("listen 8080\n") {
		t.Fatalf("set-from: %d %v", st, sf)
	}
	if st, b := env.Do("POST", fmt.Sprintf("/api/baselines/%d/set-from/ghost", id), admin, nil); st != 404 {
		t.Errorf("set-from unknown host: %d %s", st, b)
	}
	if st, b := env.Do("POST", fmt.Sprintf("/api/baselines/%d/set-from/drift-host", missingID), admin, nil); st != 502 || !strings.Contains(errMsg(b), "nope.conf") {
		t.Errorf("set-from a missing file: %d %s", st, b)
	}
	row = check(id, "match")
	if row["status"] != "match" {
		t.Errorf("after set-from: %v", row)
	}
	// The drift alert is resolved again.
	env.JSON("GET", "/api/incidents", viewer, nil, &incidents)
	for _, inc := range incidents {
		if inc["title"] == wantTitle && inc["resolved_at"] == 0.0 {
			t.Errorf("drift incident still open after the match: %v", inc)
		}
	}

	// Deleting a drifted baseline closes its open drift alert.
	openFor := func(path string) bool {
		env.JSON("GET", "/api/incidents", viewer, nil, &incidents)
		for _, inc := range incidents {
			if inc["source"] == "config_drift" && strings.Contains(inc["title"].(string), path) && inc["resolved_at"] == 0.0 {
				return true
			}
		}
		return false
	}
	if !openFor(missing) {
		t.Fatalf("no open drift incident for the missing file: %v", incidents)
	}
	if st, _ := env.Do("DELETE", fmt.Sprintf("/api/baselines/%d", missingID), admin, nil); st != 200 {
		t.Fatalf("delete: %d", st)
	}
	if openFor(missing) {
		t.Error("the drift incident of a deleted baseline stays open")
	}

	// A graph node named after an online agent takes its health from the
	// agent's last report.
	if st := env.JSON("POST", "/api/dependencies", admin, map[string]any{"source": "web", "target": "drift-host"}, nil); st != 200 {
		t.Fatal(st)
	}
	var g struct {
		Nodes []map[string]any `json:"nodes"`
	}
	env.JSON("GET", "/api/dependencies", viewer, nil, &g)
	for _, n := range g.Nodes {
		switch n["id"] {
		case "drift-host":
			if h := n["health"]; h != "healthy" && h != "warning" && h != "critical" {
				t.Errorf("agent node health %v, want it from the live report", h)
			}
		case "web":
			if n["health"] != "unknown" {
				t.Errorf("non-agent node health %v", n["health"])
			}
		}
	}

	// Dependency discovery reaches the agent.
	var disc map[string]any
	if st := env.JSON("POST", "/api/dependencies/discover/drift-host", op, nil, &disc); st != 200 || (disc["status"] != "sent" && disc["status"] != "queued") || len(disc["id"].(string)) != 16 {
		t.Errorf("discover: %d %v", st, disc)
	}
}
