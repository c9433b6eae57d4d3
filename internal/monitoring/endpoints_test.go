package monitoring_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/monitoring"
	"github.com/noba-go/noba/internal/server/servertest"
)

func TestEndpoints(t *testing.T) {
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")

	t.Run("validation", func(t *testing.T) {
		cases := []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"url": "http://x"}, "Name and URL are required"},
			{map[string]any{"name": "  ", "url": "http://x"}, "Name and URL are required"},
			{map[string]any{"name": "a"}, "Name and URL are required"},
			{map[string]any{"name": "a", "url": "ftp://x", "type": "http"}, "URL must start with http:// or https://"},
			{map[string]any{"name": "a", "url": "http://x", "check_interval": 10}, "check_interval must be an integer from 30 to 86400 seconds"},
			{map[string]any{"name": "a", "url": "http://x", "timeout": 0}, "timeout must be an integer from 1 to 60 seconds"},
			{map[string]any{"name": "a", "url": "http://x", "timeout": "soon"}, "timeout must be an integer from 1 to 60 seconds"},
			{map[string]any{"name": "a", "url": "http://x", "expected_status": 99}, "expected_status must be an integer from 100 to 599"},
			{map[string]any{"name": "a", "url": "http://x", "method": "POST"}, "method must be GET or HEAD"},
			{map[string]any{"name": "a", "url": "http://x", "type": "smtp"}, "type must be http, tcp, ping, or dns"},
			{map[string]any{"name": "a", "url": "tcp://nohost"}, "TCP target must be host:port (e.g. tcp://db.lan:5432)"},
			{map[string]any{"name": "a", "url": "tcp://h:99999"}, "TCP target must be host:port (e.g. tcp://db.lan:5432)"},
			{map[string]any{"name": "a", "url": "dns://example.com", "method": "SRV"}, "method of a DNS monitor must be A, AAAA, CNAME, MX, TXT, or NS"},
			{map[string]any{"name": "a", "url": "dns://example.com", "dns_server": "not-an-ip"}, "dns_server must be an IP address with an optional port"},
			{map[string]any{"name": "a", "url": "tcp://h:22", "agent_hostname": "pve1"}, "agent_hostname is only supported for http monitors"},
		}
		for _, c := range cases {
			st, b := env.Do(http.MethodPost, "/api/endpoints", admin, c.body)
			if st != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
				t.Errorf("POST %v: got %d %s, want 400 %q", c.body, st, b, c.want)
			}
		}
		if n := len(monitors(t, env, viewer)); n != 0 {
			t.Fatalf("invalid creates stored %d monitors", n)
		}
		for _, p := range []string{"/api/endpoints/abc", "/api/endpoints/0"} {
			if st, b := env.Do(http.MethodPut, p, admin, map[string]any{"name": "x"}); st != http.StatusBadRequest || !strings.Contains(string(b), "Invalid monitor_id") {
				t.Errorf("PUT %s: %d %s", p, st, b)
			}
		}
		if st, _ := env.Do(http.MethodPut, "/api/endpoints/9999", admin, map[string]any{"name": "x"}); st != http.StatusNotFound {
			t.Errorf("PUT unknown: %d, want 404", st)
		}
		if st, _ := env.Do(http.MethodDelete, "/api/endpoints/9999", admin, nil); st != http.StatusNotFound {
			t.Errorf("DELETE unknown: %d, want 404", st)
		}
		if st, _ := env.Do(http.MethodPost, "/api/endpoints/9999/check", admin, nil); st != http.StatusNotFound {
			t.Errorf("check unknown: %d, want 404", st)
		}
	})

	t.Run("crud", func(t *testing.T) {
		id := createMonitor(t, env, map[string]any{"name": " crud ", "url": "http://127.0.0.1:9/", "method": "head", "check_interval": 60})
		m := monitors(t, env, viewer)["crud"]
		if m.ID != id || m.Type != "http" || m.Method != "HEAD" || m.CheckInterval != 60 || m.Timeout != 10 ||
			m.ExpectedStatus != 200 || m.NotifyCertDays != 14 || !m.Enabled || !m.VerifyTLS || m.AgentHostname != nil || m.LastStatus != nil {
			t.Fatalf("created monitor: %+v", m)
		}
		if st, _ := env.Do(http.MethodPut, fmt.Sprintf("/api/endpoints/%d", id), admin, map[string]any{"unknown": 1}); st != http.StatusNotFound {
			t.Errorf("PUT without recognised fields: %d, want 404", st)
		}
		// A bad field in an update changes nothing.
		if st, _ := env.Do(http.MethodPut, fmt.Sprintf("/api/endpoints/%d", id), admin, map[string]any{"name": "renamed", "timeout": 99}); st != http.StatusBadRequest {
			t.Errorf("PUT bad timeout: %d, want 400", st)
		}
		if _, ok := monitors(t, env, viewer)["renamed"]; ok {
			t.Fatal("rejected update was partly applied")
		}
		// Changing the type re-validates the target.
		if st, b := env.Do(http.MethodPut, fmt.Sprintf("/api/endpoints/%d", id), admin, map[string]any{"type": "tcp"}); st != http.StatusBadRequest {
			t.Errorf("PUT type tcp with an http URL: %d %s, want 400", st, b)
		}
		st, b := env.Do(http.MethodPut, fmt.Sprintf("/api/endpoints/%d", id), admin, map[string]any{"name": "renamed", "enabled": false, "agent_hostname": "pve1"})
		if st != http.StatusOK {
			t.Fatalf("PUT: %d %s", st, b)
		}
		m = monitors(t, env, viewer)["renamed"]
		if m.Enabled || m.AgentHostname == nil || *m.AgentHostname != "pve1" || m.Method != "HEAD" {
			t.Fatalf("updated monitor: %+v", m)
		}
		if st, _ := env.Do(http.MethodPost, "/api/endpoints", viewer, map[string]any{"name": "v", "url": "http://x"}); st != http.StatusForbidden {
			t.Errorf("viewer create: %d, want 403", st)
		}
		if st, _ := env.Do(http.MethodPost, fmt.Sprintf("/api/endpoints/%d/check", id), viewer, nil); st != http.StatusForbidden {
			t.Errorf("viewer check: %d, want 403", st)
		}
		// An agent-assigned check of an agent that is not connected fails at
		// once (skipped when no agents room is wired at all).
		res := checkNow(t, env, id)
		offline := res.Status == monitoring.StatusDown && res.Error == "Agent pve1 is offline"
		unwired := res.Status == monitoring.StatusSkipped && strings.Contains(res.Error, "Agent-dispatched checks are unavailable")
		if !offline && !unwired {
			t.Errorf("agent check of an offline agent: %+v", res)
		}
		if h := monitors(t, env, viewer)["renamed"].History; len(h) != 0 && res.Status == monitoring.StatusDown {
			t.Errorf("offline agent left a history row: %+v", h)
		}
		if st, _ := env.Do(http.MethodDelete, fmt.Sprintf("/api/endpoints/%d", id), admin, nil); st != http.StatusOK {
			t.Fatalf("DELETE: %d", st)
		}
		if _, ok := monitors(t, env, viewer)["renamed"]; ok {
			t.Fatal("deleted monitor still listed")
		}
		var audit []struct{ Action, Details string }
		env.JSON(http.MethodGet, "/api/audit?limit=50", admin, nil, &audit)
		var actions []string
		for _, a := range audit {
			actions = append(actions, a.Action)
		}
		for _, want := range []string{"endpoint_create", "endpoint_update", "endpoint_check_now", "endpoint_delete"} {
			if !slices.Contains(actions, want) {
				t.Errorf("audit has no %s: %v", want, actions)
			}
		}
	})

	t.Run("http", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ua := r.Header.Get("User-Agent"); ua != "NOBA-Server/1.0" {
				t.Errorf("User-Agent %q", ua)
			}
			switch r.URL.Path {
			case "/ok":
				io.WriteString(w, "hello noba world")
			case "/moved":
				http.Redirect(w, r, "/ok", http.StatusFound)
			case "/away":
				http.Redirect(w, r, "http://192.0.2.1/elsewhere", http.StatusFound)
			case "/fail":
				http.Error(w, "boom", http.StatusInternalServerError)
			case "/slow":
				time.Sleep(1500 * time.Millisecond)
			}
		}))
		defer srv.Close()
		cases := []struct {
			name   string
			body   map[string]any
			status string
			code   int
			errSub string
		}{
			{"ok", map[string]any{"url": srv.URL + "/ok"}, "up", 200, ""},
			{"keyword", map[string]any{"url": srv.URL + "/ok", "keyword": "noba"}, "up", 200, ""},
			{"keyword-missing", map[string]any{"url": srv.URL + "/ok", "keyword": "absent"}, "down", 200, `keyword "absent" not found`},
			{"redirect", map[string]any{"url": srv.URL + "/moved"}, "up", 200, ""},
			{"offsite-redirect", map[string]any{"url": srv.URL + "/away"}, "degraded", 302, ""},
			{"unexpected", map[string]any{"url": srv.URL + "/ok", "expected_status": 204}, "degraded", 200, ""},
			{"error", map[string]any{"url": srv.URL + "/fail"}, "down", 500, "HTTP 500 (expected 200)"},
			{"expected-error", map[string]any{"url": srv.URL + "/fail", "expected_status": 500}, "up", 500, ""},
			{"head", map[string]any{"url": srv.URL + "/ok", "method": "HEAD"}, "up", 200, ""},
			{"timeout", map[string]any{"url": srv.URL + "/slow", "timeout": 1}, "down", 0, "timed out"},
		}
		for _, c := range cases {
			c.body["name"] = "http-" + c.name
			id := createMonitor(t, env, c.body)
			res := checkNow(t, env, id)
			if res.Status != c.status || res.StatusCode != c.code || (c.errSub != "" && !strings.Contains(res.Error, c.errSub)) {
				t.Errorf("%s: got %+v, want %s %d %q", c.name, res, c.status, c.code, c.errSub)
			}
			if res.CertExpiryDays != nil {
				t.Errorf("%s: cert days on plain http", c.name)
			}
		}
		ms := monitors(t, env, viewer)
		ok := ms["http-ok"]
		if ok.LastStatus == nil || *ok.LastStatus != "up" || ok.LastChecked == nil || ok.LastStatusCode == nil || *ok.LastStatusCode != 200 ||
			ok.UptimePercent == nil || *ok.UptimePercent != 100 || len(ok.History) != 1 || ok.History[0].Status != "up" {
			t.Errorf("stored state of http-ok: %+v", ok)
		}
		if m := ms["http-error"]; !slices.Equal(eventKinds(m), []string{"down/critical"}) || !strings.Contains(m.Events[0].Message, "is DOWN: HTTP 500") {
			t.Errorf("http-error events: %+v", m.Events)
		}
		if m := ms["http-unexpected"]; len(m.Events) != 0 {
			t.Errorf("degraded raised events: %+v", m.Events)
		}
	})

	t.Run("tls-expiring", func(t *testing.T) {
		cert := selfSigned(t, time.Now().Add(10*24*time.Hour+time.Hour))
		u := serveTLS(t, cert, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") }))
		insecure := createMonitor(t, env, map[string]any{"name": "tls-selfsigned", "url": u + "/", "verify_tls": false, "notify_cert_days": 14})
		res := checkNow(t, env, insecure)
		if res.Status != "up" || res.CertExpiryDays == nil || *res.CertExpiryDays != 10 || !strings.Contains(res.CertError, "certificate verification failed") {
			t.Fatalf("self-signed, verify off: %+v", res)
		}
		// A second check the same day raises no second warning.
		checkNow(t, env, insecure)
		m := monitors(t, env, viewer)["tls-selfsigned"]
		if !slices.Equal(eventKinds(m), []string{"cert_expiry/warning"}) || m.Events[0].Message != fmt.Sprintf("Certificate for tls-selfsigned (%s/) expires in 10 day(s)", u) {
			t.Fatalf("certificate events: %+v", m.Events)
		}
		if len(m.History) != 2 || m.CertExpiryDays == nil || *m.CertExpiryDays != 10 {
			t.Fatalf("stored: %+v", m)
		}
		// With verification (the default) the check fails, and the expiry is still read.
		strict := createMonitor(t, env, map[string]any{"name": "tls-strict", "url": u + "/"})
		res = checkNow(t, env, strict)
		if res.Status != "down" || res.StatusCode != 0 || !strings.Contains(res.Error, "certificate") || res.CertExpiryDays == nil || *res.CertExpiryDays != 10 {
			t.Fatalf("self-signed, verify on: %+v", res)
		}
		m = monitors(t, env, viewer)["tls-strict"]
		if !slices.Equal(eventKinds(m), []string{"cert_expiry/warning", "down/critical"}) && !slices.Equal(eventKinds(m), []string{"down/critical", "cert_expiry/warning"}) {
			t.Fatalf("strict events: %+v", m.Events)
		}
		// Closer to expiry the alert escalates to critical.
		expired := selfSigned(t, time.Now().Add(-time.Hour))
		u2 := serveTLS(t, expired, http.NotFoundHandler())
		id := createMonitor(t, env, map[string]any{"name": "tls-expired", "url": u2, "verify_tls": false, "expected_status": 404})
		res = checkNow(t, env, id)
		if res.Status != "up" || res.CertExpiryDays == nil || *res.CertExpiryDays > 0 {
			t.Fatalf("expired: %+v", res)
		}
		m = monitors(t, env, viewer)["tls-expired"]
		if !slices.Equal(eventKinds(m), []string{"cert_expiry/critical"}) || !strings.Contains(m.Events[0].Message, "has expired") {
			t.Fatalf("expired events: %+v", m.Events)
		}
	})

	t.Run("tcp-down-and-recovery", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		open := createMonitor(t, env, map[string]any{"name": "tcp-open", "url": "tcp://" + ln.Addr().String()})
		if res := checkNow(t, env, open); res.Status != "up" {
			t.Fatalf("open port: %+v", res)
		}

		addr := freePort(t)
		closed := createMonitor(t, env, map[string]any{"name": "tcp-closed", "url": addr, "type": "tcp", "timeout": 2})
		res := checkNow(t, env, closed)
		if res.Status != "down" || !strings.Contains(res.Error, "connection refused") {
			t.Fatalf("closed port: %+v", res)
		}
		checkNow(t, env, closed) // still down: no second alert
		m := monitors(t, env, viewer)["tcp-closed"]
		if !slices.Equal(eventKinds(m), []string{"down/critical"}) || m.UptimePercent == nil || *m.UptimePercent != 0 {
			t.Fatalf("down events: %+v uptime %v", m.Events, m.UptimePercent)
		}
		assertAlert(t, env, "endpoint_down:tcp-closed", true)

		// The service comes up on that port: recovery.
		ln2, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("port %s taken meanwhile: %v", addr, err)
		}
		defer ln2.Close()
		go func() {
			for {
				c, err := ln2.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		if res := checkNow(t, env, closed); res.Status != "up" {
			t.Fatalf("recovered port: %+v", res)
		}
		m = monitors(t, env, viewer)["tcp-closed"]
		if !slices.Equal(eventKinds(m), []string{"recovered/info", "down/critical"}) {
			t.Fatalf("recovery events: %+v", m.Events)
		}
		if m.UptimePercent == nil || *m.UptimePercent < 33 || *m.UptimePercent > 34 {
			t.Errorf("uptime after 1 of 3 up: %v", m.UptimePercent)
		}
		assertAlert(t, env, "endpoint_down:tcp-closed", false)
	})

	t.Run("rename-and-disable-close-alerts", func(t *testing.T) {
		id := createMonitor(t, env, map[string]any{"name": "gone-db", "url": "tcp://" + freePort(t), "timeout": 1})
		if res := checkNow(t, env, id); res.Status != "down" {
			t.Fatalf("closed port: %+v", res)
		}
		assertAlert(t, env, "endpoint_down:gone-db", true)
		if st, _ := env.Do(http.MethodPut, fmt.Sprintf("/api/endpoints/%d", id), admin, map[string]any{"name": "gone-db2"}); st != http.StatusOK {
			t.Fatal("rename")
		}
		assertAlert(t, env, "endpoint_down:gone-db", false)
		checkNow(t, env, id)
		assertAlert(t, env, "endpoint_down:gone-db2", true)
		if m := monitors(t, env, viewer)["gone-db2"]; !slices.Equal(eventKinds(m), []string{"down/critical", "down/critical"}) {
			t.Errorf("events after rename: %v", eventKinds(m))
		}
		if st, _ := env.Do(http.MethodPut, fmt.Sprintf("/api/endpoints/%d", id), admin, map[string]any{"enabled": false}); st != http.StatusOK {
			t.Fatal("disable")
		}
		assertAlert(t, env, "endpoint_down:gone-db2", false)
	})

	t.Run("dns", func(t *testing.T) {
		server := dnsServer(t, map[string]net.IP{"svc.noba.test.": net.ParseIP("10.1.2.3")})
		cases := []struct {
			name, url, keyword, status, errSub string
		}{
			{"dns-ok", "dns://svc.noba.test", "", "up", ""},
			{"dns-expected", "dns://svc.noba.test", "10.1.2.3", "up", ""},
			{"dns-wrong", "dns://svc.noba.test", "10.9.9.9", "down", `expected "10.9.9.9" not in answers 10.1.2.3`},
			{"dns-nx", "dns://missing.noba.test", "", "down", "lookup missing.noba.test"},
		}
		for _, c := range cases {
			id := createMonitor(t, env, map[string]any{"name": c.name, "url": c.url, "keyword": c.keyword, "dns_server": server, "timeout": 3})
			res := checkNow(t, env, id)
			if res.Status != c.status || (c.errSub != "" && !strings.Contains(res.Error, c.errSub)) {
				t.Errorf("%s: %+v, want %s %q", c.name, res, c.status, c.errSub)
			}
		}
		if m := monitors(t, env, viewer)["dns-ok"]; m.Method != "A" || m.Type != "dns" {
			t.Errorf("dns monitor stored as %s %s", m.Type, m.Method)
		}
	})

	t.Run("ping", func(t *testing.T) {
		id := createMonitor(t, env, map[string]any{"name": "ping-loopback", "url": "icmp://127.0.0.1", "timeout": 2})
		res := checkNow(t, env, id)
		switch res.Status {
		case "up":
			if res.Method == "" {
				t.Errorf("ping up without method: %+v", res)
			}
			t.Logf("ping 127.0.0.1 via %s: %d ms", res.Method, res.ResponseMS)
		case "skipped":
			if !strings.Contains(res.Error, "ICMP unavailable") {
				t.Errorf("ping skipped without a clear reason: %+v", res)
			}
			t.Logf("ICMP unavailable on this host: %s", res.Error)
		default:
			t.Errorf("ping 127.0.0.1: %+v", res)
		}
	})

	t.Run("scheduler", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		defer srv.Close()
		due := createMonitor(t, env, map[string]any{"name": "sched-due", "url": srv.URL, "check_interval": 30})
		off := createMonitor(t, env, map[string]any{"name": "sched-off", "url": srv.URL, "enabled": false})
		_ = due
		runJob(t, env, "monitoring.endpoints")
		ms := monitors(t, env, viewer)
		if ms["sched-due"].LastChecked == nil || ms["sched-off"].LastChecked != nil || hits.Load() != 1 {
			t.Fatalf("after one tick: due checked %v, off checked %v, hits %d", ms["sched-due"].LastChecked, ms["sched-off"].LastChecked, hits.Load())
		}
		// Within its interval a monitor is not checked again.
		runJob(t, env, "monitoring.endpoints")
		if n := len(monitors(t, env, viewer)["sched-due"].History); n != 1 || hits.Load() != 1 {
			t.Fatalf("checked again within interval: %d history rows, %d hits", n, hits.Load())
		}
		_ = off
		runJob(t, env, "monitoring.prune")
	})

	t.Run("uptime-and-health", func(t *testing.T) {
		var up struct {
			Items []struct {
				Name, Type, Status string
			} `json:"items"`
			Percent *float64 `json:"percent"`
		}
		if st := env.JSON(http.MethodGet, "/api/uptime", viewer, nil, &up); st != http.StatusOK || up.Percent == nil {
			t.Fatalf("uptime: %d %+v", st, up)
		}
		found := map[string]string{}
		upN := 0
		for _, it := range up.Items {
			if it.Type == "endpoint" {
				found[it.Name] = it.Status
			}
			if it.Status == "up" {
				upN++
			}
		}
		if found["http-ok"] != "up" || found["tcp-closed"] != "up" || found["http-error"] != "down" {
			t.Errorf("uptime endpoint items: %v", found)
		}
		if want := float64(int(float64(upN)/float64(len(up.Items))*1000+0.5)) / 10; *up.Percent != want {
			t.Errorf("percent %v, want %v", *up.Percent, want)
		}
		var hs monitoring.HealthScore
		if st := env.JSON(http.MethodGet, "/api/health-score", viewer, nil, &hs); st != http.StatusOK {
			t.Fatalf("health-score: %d", st)
		}
		c := hs.Categories["certificate_health"]
		// tls-selfsigned 10 days -> 5, tls-strict 10 days -> 5, tls-expired -> 0.
		if c.Score == nil || *c.Score != 3.3 || c.Status != "critical" || len(c.Recommendations) != 3 {
			t.Errorf("certificate_health: %+v", c)
		}
		if len(hs.Categories) != 6 || hs.ScoredCategories+hs.UnknownCategories != 6 {
			t.Errorf("categories: %+v", hs.Categories)
		}
		if (hs.ScoredCategories < 2) != (hs.Score == nil) || hs.Reason == "" {
			t.Errorf("score %v grade %s with %d scored categories, reason %q", hs.Score, hs.Grade, hs.ScoredCategories, hs.Reason)
		}
		for k, c := range hs.Categories {
			if c.Reason == "" {
				t.Errorf("category %s has no reason: %+v", k, c)
			}
		}
	})
}

// assertAlert checks the alert state of key: always in the monitor's own
// events (above), and in /api/alert-history when the alerts room is wired.
func assertAlert(t *testing.T, env *servertest.Env, key string, open bool) {
	t.Helper()
	st, b := env.Do(http.MethodGet, "/api/alert-history?limit=200", env.Token("admin"), nil)
	if st == http.StatusNotFound {
		t.Logf("alerts room not wired: %s checked in the monitor's events only", key)
		return
	}
	if st != http.StatusOK {
		t.Fatalf("alert-history: %d %s", st, b)
	}
	var rows []map[string]any
	if err := jsonUnmarshalLoose(b, &rows); err != nil {
		t.Fatalf("alert-history: %v %s", err, b)
	}
	for _, r := range rows {
		if r["rule_id"] == monitoring.AlertSource+":"+key {
			isOpen := r["resolved_at"] == nil || r["resolved_at"] == float64(0)
			if isOpen != open {
				t.Fatalf("alert %s open=%v, want %v: %v", key, isOpen, open, r)
			}
			return
		}
	}
	t.Fatalf("alert %s not in alert history: %s", key, b)
}
