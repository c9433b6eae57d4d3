package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/cluster"
	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/db/pgtest"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// replicaBackend says how two replicas share one database and join one
// cluster: replica i gets these config edits and options.
type replicaBackend func(t *testing.T) (cfg func(i int) []servertest.Config, opts func(i int) []server.Option)

// sharedSQLite: both replicas open the same SQLite file (one data
// directory) and meet through an in-process cluster hub. It runs the
// replica machinery everywhere; TestReplicasOnPostgres runs the same
// scenario on a real PostgreSQL server.
func sharedSQLite(t *testing.T) (func(int) []servertest.Config, func(int) []server.Option) {
	dir := t.TempDir()
	hub := cluster.NewHub()
	return func(int) []servertest.Config {
			// SQLite even when NOBA_TEST_PG_URL gives every test server
			// a PostgreSQL database of its own.
			return []servertest.Config{func(c *config.Config) { c.DataDir, c.DatabaseURL = dir, "" }}
		}, func(i int) []server.Option {
			return []server.Option{server.WithCluster(hub.Join(replicaName(i)))}
		}
}

func replicaName(i int) string { return "replica-" + string(rune('a'+i)) }

// failoverBound is the stated time within which the jobs that must run
// once carry on on another replica after the leader dies: the elector's
// retry (1 s on PostgreSQL) plus the stats job's first tick (200 ms here)
// and slack for the race detector.
const failoverBound = 5 * time.Second

func TestReplicasShareCommandsSnapshotsSessionsAndLeadership(t *testing.T) {
	runReplicas(t, sharedSQLite)
}

func runReplicas(t *testing.T, backend replicaBackend) {
	cfgs, opts := backend(t)
	start := func(i int) *servertest.Env {
		name := replicaName(i)
		src := collect.SourceFunc(func(context.Context) (map[string]any, error) {
			return map[string]any{"hostname": name, "collected_by": name, "cpuPercent": 5.0}, nil
		})
		return servertest.NewWith(t, servertest.Setup{Jobs: true, Config: cfgs(i),
			Options: append(opts(i), server.WithStatsSource(src), server.WithStatsInterval(200*time.Millisecond))})
	}
	a := start(0)
	waitUntil(t, 10*time.Second, "replica a leads", a.Server.Cluster.Elector.Leading)
	b := start(1)
	const key = "replica-test-key"
	for _, e := range []*servertest.Env{a, b} {
		if _, err := e.Server.Settings.Update(map[string]any{"agentKeys": key}); err != nil {
			t.Fatal(err)
		}
	}
	if b.Server.Cluster.Elector.Leading() {
		t.Fatal("two replicas lead")
	}

	// Sessions: a token issued by a is good on b.
	admin := a.Token("admin")
	operator := a.Token("operator")
	if st, body := b.Do(http.MethodGet, "/api/me", operator, nil); st != http.StatusOK {
		t.Fatalf("a's session refused by b: %d %s", st, body)
	}

	// An agent on replica a; replica b shows it online over a WebSocket.
	const host = "replica-agent"
	a.StartAgent(t, servertest.AgentSpec{Key: key, Host: host})
	waitUntil(t, 15*time.Second, "b lists the agent online on a WebSocket", func() bool {
		var v map[string]any
		return b.JSON(http.MethodGet, "/api/agents/"+host, operator, nil, &v) == http.StatusOK &&
			v["online"] == true && v["websocket"] == true
	})

	// A command queued on b reaches the agent through a; its result is
	// visible on both.
	var queued struct {
		Status    string `json:"status"`
		ID        string `json:"id"`
		WebSocket bool   `json:"websocket"`
	}
	if st := b.JSON(http.MethodPost, "/api/agents/"+host+"/command", operator,
		map[string]any{"type": "system_info", "params": map[string]any{}}, &queued); st != http.StatusOK || queued.ID == "" {
		t.Fatalf("command on b: %d %+v", st, queued)
	}
	if queued.Status != "sent" || !queued.WebSocket {
		t.Fatalf("b did not hand the command to the replica holding the WebSocket: %+v", queued)
	}
	for _, e := range []*servertest.Env{b, a} {
		waitUntil(t, 20*time.Second, "result visible on "+e.URL, func() bool {
			var rs []map[string]any
			if e.JSON(http.MethodGet, "/api/agents/"+host+"/results", operator, nil, &rs) != http.StatusOK {
				return false
			}
			for _, r := range rs {
				if r["id"] == queued.ID && r["status"] == "ok" {
					return true
				}
			}
			return false
		})
		var hist []map[string]any
		e.JSON(http.MethodGet, "/api/agents/command-history?hostname="+host, operator, nil, &hist)
		if !hasRow(hist, "id", queued.ID, "status", "ok") {
			t.Fatalf("command history on %s lacks the finished command: %v", e.URL, hist)
		}
	}

	// A log stream started on b: the agent's lines reach a, b serves them.
	logDir, err := os.MkdirTemp("/tmp", "noba-replicas-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(logDir) })
	logf := filepath.Join(logDir, "app.log")
	if err := os.WriteFile(logf, []byte("line-1\nline-2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stream struct {
		StreamID string `json:"stream_id"`
	}
	if st := b.JSON(http.MethodPost, "/api/agents/"+host+"/stream-logs", operator, map[string]any{"path": logf, "lines": 2}, &stream); st != http.StatusOK || stream.StreamID == "" {
		t.Fatalf("stream-logs on b: %d", st)
	}
	waitUntil(t, 20*time.Second, "b serves the stream's lines", func() bool {
		var p struct {
			Lines []string `json:"lines"`
		}
		b.JSON(http.MethodGet, "/api/agents/"+host+"/stream/"+stream.StreamID, operator, nil, &p)
		return strings.Join(p.Lines, ",") == "line-1,line-2"
	})
	if st, _ := b.Do(http.MethodDelete, "/api/agents/"+host+"/stream-logs/"+stream.StreamID, operator, nil); st != http.StatusOK {
		t.Fatalf("stop stream on b: %d", st)
	}

	// An agent without a WebSocket, reporting over HTTP: a command queued
	// on a joins every replica's queue, the report to b picks it up, and
	// the result reported to a is visible on b.
	const httpHost = "replica-http-agent"
	report := func(e *servertest.Env, results []map[string]any) []map[string]any {
		t.Helper()
		var out struct {
			Commands []map[string]any `json:"commands"`
		}
		resp := e.Request(http.MethodPost, "/api/agent/report", "", map[string]any{"hostname": httpHost, "cpu_percent": 1.0,
			"_cmd_results": results}, map[string]string{"X-Agent-Key": key})
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil {
			t.Fatalf("report to %s: %d", e.URL, resp.StatusCode)
		}
		return out.Commands
	}
	report(a, nil)
	var q2 struct {
		Status string `json:"status"`
		ID     string `json:"id"`
	}
	if st := a.JSON(http.MethodPost, "/api/agents/"+httpHost+"/command", operator,
		map[string]any{"type": "ping", "params": map[string]any{}}, &q2); st != http.StatusOK || q2.Status != "queued" {
		t.Fatalf("command on a for an HTTP agent: %d %+v", st, q2)
	}
	var picked []map[string]any
	waitUntil(t, 5*time.Second, "b hands out the command queued on a", func() bool {
		picked = report(b, nil)
		return len(picked) == 1 && picked[0]["id"] == q2.ID
	})
	// b's "drained" message reaches a asynchronously (milliseconds).
	time.Sleep(500 * time.Millisecond)
	if again := report(a, nil); len(again) != 0 {
		t.Fatalf("a hands out the command b already delivered: %v", again)
	}
	report(a, []map[string]any{{"id": q2.ID, "type": "ping", "status": "ok", "pong": true}})
	waitUntil(t, 5*time.Second, "b shows the result reported to a", func() bool {
		var rs []map[string]any
		b.JSON(http.MethodGet, "/api/agents/"+httpHost+"/results", operator, nil, &rs)
		return hasRow(rs, "id", q2.ID, "status", "ok")
	})

	// Snapshots: b's clients see the leader's collection, on /api/stats
	// and on the SSE stream.
	waitUntil(t, 10*time.Second, "b serves a's snapshot", func() bool { return collectedBy(t, b, operator) == "replica-a" })
	if got := sseCollectedBy(t, b, operator); got != "replica-a" {
		t.Fatalf("b's SSE stream shows the snapshot of %q", got)
	}

	// A one-time WebSocket token from a opens a WebSocket on b, once.
	var wsTok struct {
		Token string `json:"token"`
	}
	if st := a.JSON(http.MethodPost, "/api/ws-token", operator, nil, &wsTok); st != http.StatusOK || wsTok.Token == "" {
		t.Fatalf("ws-token: %d", st)
	}
	dial := func(e *servertest.Env) (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		u := "ws" + strings.TrimPrefix(e.URL, "http") + "/api/agents/" + host + "/terminal?token=" + wsTok.Token
		c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {e.URL}}})
		if err == nil {
			c.CloseNow()
			return http.StatusSwitchingProtocols, nil
		}
		if resp != nil {
			return resp.StatusCode, err
		}
		return 0, err
	}
	waitUntil(t, 5*time.Second, "b accepts a's WebSocket token", func() bool {
		st, _ := dial(b)
		return st == http.StatusSwitchingProtocols
	})
	waitUntil(t, 5*time.Second, "a refuses the token b consumed", func() bool {
		st, _ := dial(a)
		return st == http.StatusUnauthorized
	})

	// Revocation: a session logged out on a is refused by b.
	viewer := a.Login(servertest.AdminUser, servertest.AdminPassword)
	if st, _ := b.Do(http.MethodGet, "/api/me", viewer, nil); st != http.StatusOK {
		t.Fatalf("fresh session refused by b: %d", st)
	}
	if st, _ := a.Do(http.MethodPost, "/api/logout", viewer, nil); st != http.StatusOK {
		t.Fatalf("logout: %d", st)
	}
	waitUntil(t, 5*time.Second, "b refuses the revoked session", func() bool {
		st, _ := b.Do(http.MethodGet, "/api/me", viewer, nil)
		return st == http.StatusUnauthorized
	})

	// Rate limits: five failures on a lock the address out on b too.
	for range 5 {
		a.Do(http.MethodPost, "/api/login", "", map[string]string{"username": "nobody", "password": "wrong-password"})
	}
	waitUntil(t, 5*time.Second, "b locks the address out", func() bool {
		st, _ := b.Do(http.MethodPost, "/api/login", "", map[string]string{"username": servertest.AdminUser, "password": servertest.AdminPassword})
		return st == http.StatusTooManyRequests
	})

	// Kill the leader: b leads and runs the scheduled jobs (its own
	// collection replaces a's) within failoverBound.
	killed := time.Now()
	a.Stop()
	waitUntil(t, failoverBound, "b leads and collects after a died", func() bool {
		return b.Server.Cluster.Elector.Leading() && collectedBy(t, b, admin) == "replica-b"
	})
	t.Logf("failover: b collected %s after the leader died", time.Since(killed).Round(time.Millisecond))
	if st, _ := b.Do(http.MethodGet, "/api/agents", admin, nil); st != http.StatusOK {
		t.Fatalf("b after failover: %d", st)
	}
}

func hasRow(rows []map[string]any, kv ...string) bool {
	for _, r := range rows {
		ok := true
		for i := 0; i < len(kv); i += 2 {
			if r[kv[i]] != kv[i+1] {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func collectedBy(t *testing.T, e *servertest.Env, tok string) string {
	var s map[string]any
	if e.JSON(http.MethodGet, "/api/stats", tok, nil, &s) != http.StatusOK {
		return ""
	}
	v, _ := s["collected_by"].(string)
	return v
}

// sseCollectedBy reads the first event of e's SSE stream.
func sseCollectedBy(t *testing.T, e *servertest.Env, tok string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/api/stream?token="+tok, nil)
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var s map[string]any
			if err := json.Unmarshal([]byte(d), &s); err != nil {
				t.Fatalf("SSE event: %v", err)
			}
			v, _ := s["collected_by"].(string)
			return v
		}
	}
	t.Fatalf("no SSE event: %v", sc.Err())
	return ""
}

func waitUntil(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// postgresReplicas: two replicas, each with its own data directory, on
// one PostgreSQL database (NOBA_DATABASE_URL): they meet through it
// (LISTEN/NOTIFY, advisory-lock leadership). Skipped without
// NOBA_TEST_PG_URL.
func postgresReplicas(t *testing.T) (func(int) []servertest.Config, func(int) []server.Option) {
	dsn := pgtest.NewDatabase(t)
	return func(i int) []servertest.Config {
		return []servertest.Config{func(c *config.Config) { c.DatabaseURL, c.ReplicaID = dsn, replicaName(i) }}
	}, func(int) []server.Option { return nil }
}

func TestReplicasOnPostgres(t *testing.T) {
	runReplicas(t, postgresReplicas)
}
