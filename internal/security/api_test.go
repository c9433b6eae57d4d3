package security_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

func errMsg(b []byte) string {
	var e struct{ Error string }
	_ = json.Unmarshal(b, &e)
	return e.Error
}

func TestRouteRoles(t *testing.T) {
	env := servertest.New(t)
	routes := []struct{ method, path, min string }{
		{"GET", "/api/security/score", "viewer"},
		{"GET", "/api/security/findings", "viewer"},
		{"GET", "/api/security/history", "viewer"},
		{"POST", "/api/security/scan/nohost", "operator"},
		{"POST", "/api/security/scan-all", "operator"},
		{"POST", "/api/security/record", "admin"},
	}
	rank := map[string]int{"viewer": 1, "operator": 2, "admin": 3}
	for _, r := range routes {
		if st, _ := env.Do(r.method, r.path, "", map[string]any{}); st != http.StatusUnauthorized {
			t.Errorf("%s %s without token: %d", r.method, r.path, st)
		}
		for role, rk := range rank {
			st, b := env.Do(r.method, r.path, env.Token(role), map[string]any{})
			if rk < rank[r.min] && st != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", r.method, r.path, role, st)
			}
			if rk >= rank[r.min] && (st == 401 || st == 403 || st >= 500) {
				t.Errorf("%s %s as %s: %d %s", r.method, r.path, role, st, b)
			}
		}
	}
}

func TestRecordScoreFindingsHistory(t *testing.T) {
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")
	for _, body := range []map[string]any{{"score": 50}, {"hostname": "h1"}, {"hostname": " ", "score": 1}, {"hostname": "h1", "score": "90"}} {
		if st, b := env.Do("POST", "/api/security/record", admin, body); st != 400 || errMsg(b) != "hostname and score are required" {
			t.Errorf("record %v: %d %s", body, st, b)
		}
	}
	if st, b := env.Do("POST", "/api/security/record", admin, map[string]any{"hostname": "h1", "score": 1, "findings": "x"}); st != 400 {
		t.Errorf("findings not a list: %d %s", st, b)
	}
	var sc struct {
		Score      *int             `json:"score"`
		AgentCount int              `json:"agent_count"`
		Agents     []map[string]any `json:"agents"`
	}
	if st := env.JSON("GET", "/api/security/score", viewer, nil, &sc); st != 200 || sc.Score != nil || sc.AgentCount != 0 || sc.Agents == nil {
		t.Fatalf("empty score: %d %+v", st, sc)
	}
	rec := func(host string, score float64, fs ...map[string]any) {
		t.Helper()
		if fs == nil {
			fs = []map[string]any{}
		}
		if st, b := env.Do("POST", "/api/security/record", admin, map[string]any{"hostname": host, "score": score, "findings": fs}); st != 200 {
			t.Fatalf("record: %d %s", st, b)
		}
	}
	ssh := map[string]any{"severity": "high", "category": "ssh", "description": "Root login over SSH is permitted", "remediation": "Set PermitRootLogin no"}
	fw := map[string]any{"severity": "HIGH", "category": "firewall", "description": "No active firewall found", "remediation": "Enable ufw"}
	upd := map[string]any{"severity": "weird", "category": "updates", "description": "d", "remediation": "r"}
	rec("h1", 40, ssh, fw, upd)
	rec("h2", 100)
	rec("h1", 80.9, ssh) // the newest scan replaces h1's findings
	if st := env.JSON("GET", "/api/security/score", viewer, nil, &sc); st != 200 || sc.Score == nil || *sc.Score != 90 || sc.AgentCount != 2 {
		t.Fatalf("score: %d %+v", st, sc)
	}
	if sc.Agents[0]["hostname"] != "h1" || sc.Agents[0]["score"] != 80.0 || len(sc.Agents[0]["findings"].([]any)) != 1 || sc.Agents[1]["hostname"] != "h2" {
		t.Errorf("agents: %v", sc.Agents)
	}
	var fs []map[string]any
	env.JSON("GET", "/api/security/findings", viewer, nil, &fs)
	if len(fs) != 1 || fs[0]["hostname"] != "h1" || fs[0]["severity"] != "high" || fs[0]["score"] != 80.0 || fs[0]["resolved_at"] != nil {
		t.Errorf("findings: %v", fs)
	}
	rec("h3", 65, fw, upd)
	env.JSON("GET", "/api/security/findings?severity=low", viewer, nil, &fs)
	if len(fs) != 1 || fs[0]["category"] != "updates" || fs[0]["hostname"] != "h3" {
		t.Errorf("severity filter (unknown severities are stored as low): %v", fs)
	}
	env.JSON("GET", "/api/security/findings?hostname=h3&severity=high", viewer, nil, &fs)
	if len(fs) != 1 || fs[0]["category"] != "firewall" {
		t.Errorf("host+severity filter: %v", fs)
	}
	env.JSON("GET", "/api/security/findings?limit=-5", viewer, nil, &fs)
	if len(fs) != 1 {
		t.Errorf("limit -5 is clamped to 1: %d rows", len(fs))
	}
	var hist []map[string]any
	env.JSON("GET", "/api/security/history", viewer, nil, &hist)
	if len(hist) != 4 || hist[0]["hostname"] != "h3" {
		t.Errorf("history: %v", hist)
	}
	env.JSON("GET", "/api/security/history?hostname=h1&limit=1", viewer, nil, &hist)
	if len(hist) != 1 || hist[0]["score"] != 80.0 {
		t.Errorf("history filtered: %v", hist)
	}
	if st, b := env.Do("POST", "/api/security/scan/ghost", env.Token("operator"), nil); st != 404 || errMsg(b) != "Agent 'ghost' not found" {
		t.Errorf("scan unknown: %d %s", st, b)
	}
	var all map[string]any
	if st := env.JSON("POST", "/api/security/scan-all", env.Token("operator"), nil, &all); st != 200 || all["count"] != 0.0 || all["status"] != "queued" {
		t.Errorf("scan-all without agents: %d %v", st, all)
	}
}
