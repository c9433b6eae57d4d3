package stats

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/collect"
)

type fakeAgents map[string]map[string]float64

func (f fakeAgents) AgentMetrics() map[string]map[string]float64 { return f }

func richSnapshot() map[string]any {
	return map[string]any{
		"hostname": "nas", "cpuPercent": 95.5, "cpu_percent": 95.5, "memPercent": 85, "mem_percent": 85.2,
		"cpuTemp": "72°C", "cpu_temp": 72.0, "uptime": "3 days, 1:54:05", "uptime_s": 266045, "loadavg": "0.52 0.61 0.58",
		"os": "Fedora Linux 40", "kernel": "6.8", "hwCpu": "Ryzen", "hwGpu": "Unknown GPU", "cpu_cores": 8,
		"cpu_governor": "schedutil", "defaultIp": "192.168.1.5",
		"memory":       map[string]any{"total": 17179869184.0, "available": 8589934592.0},
		"swap":         map[string]any{"total": 2147483648.0, "used": 536870912.0, "percent": 25.0},
		"cpu_per_core": []float64{90, 100}, "load": []float64{0.52, 0.61, 0.58},
		"disks":    []map[string]any{{"mount": "/", "percent": 62}, {"mount": "/data", "percent": 96}},
		"netRxRaw": 1200.0, "netTxRaw": 300.0,
		"netInterfaces": []map[string]any{{"name": "eth0", "rx_bps": 1200.0, "tx_bps": 300.0}},
		"services":      []map[string]any{{"name": "nginx", "status": "active"}, {"name": "smb\"d", "status": "failed"}},
		"radar":         []map[string]any{{"ip": "10.0.0.1", "status": "Up", "ms": 3}},
		"netHealth":     map[string]any{"wan": "Down", "lan": "Up", "configured": true},
		"topCpu":        []map[string]any{{"name": "postgres", "val": "50.0%", "pid": 200}},
		"topMem":        []map[string]any{{"name": "java", "val": "20.0%", "pid": 300}},
	}
}

func TestPrometheusExposition(t *testing.T) {
	h := newHarness(t, fixedSource(richSnapshot()), func(d *Deps) {
		d.Agents = fakeAgents{"web01": {"cpu": 33, "mem": 44, "load_1m": 0.5}, "nas": {"cpu": 1}}
	})
	if err := h.room.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, body, hdr := h.get(t, "/api/metrics/prometheus", "viewer")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("%d %s", code, hdr.Get("Content-Type"))
	}
	text := string(body)
	for _, want := range []string{
		`noba_cpu_percent{host="nas"} 95.5`,
		`noba_cpu_percent{host="web01"} 33`,
		`noba_mem_percent{host="web01"} 44`,
		`noba_agent_load_1m{host="web01"} 0.5`,
		`noba_disk_percent{host="nas",mount="/data"} 96`,
		`noba_net_rx_bps{host="nas"} 1200`,
		`noba_net_interface_tx_bps{host="nas",interface="eth0"} 300`,
		`noba_service_up{host="nas",name="nginx"} 1`,
		`noba_service_up{host="nas",name="smb\"d"} 0`,
		`noba_cpu_core_percent{core="1",host="nas"} 100`,
		`noba_radar_up{host="nas",target="10.0.0.1"} 1`,
		`noba_load{host="nas",period="1m"} 0.52`,
		"# TYPE noba_cpu_percent gauge",
	} {
		if !strings.Contains(text, want+"\n") && !strings.Contains(text, want) {
			t.Errorf("exposition lacks %s\n%s", want, text)
		}
	}
	// the agent named like this server never collides with it
	if strings.Contains(text, `noba_cpu_percent{host="nas"} 1`+"\n") {
		t.Error("agent sample overwrote the server's own series")
	}
	if code, _, _ := h.get(t, "/api/metrics/prometheus", ""); code != 401 {
		t.Errorf("no token: %d", code)
	}
}

func TestSystemViews(t *testing.T) {
	h := newHarness(t, fixedSource(richSnapshot()), nil)
	var info map[string]any
	_, body, _ := h.get(t, "/api/system/info", "viewer")
	json.Unmarshal(body, &info)
	for k, v := range map[string]any{"hostname": "nas", "uptime": "3d 1h 54m", "load": "0.52 0.61 0.58", "ip": "192.168.1.5",
		"governor": "schedutil", "noba_version": "2.0.0", "ram_total_gb": 16.0, "ram_available_gb": 8.0, "swap_total_gb": 2.0,
		"swap_used_gb": 0.5, "cpu_model": "Ryzen", "cpu_cores": 8.0} {
		if info[k] != v {
			t.Errorf("system/info %s = %v, want %v", k, info[k], v)
		}
	}
	var hs map[string]any
	_, body, _ = h.get(t, "/api/system/health", "viewer")
	json.Unmarshal(body, &hs)
	// CPU -30, Memory -10, Disk /data -20, Temp -5, smbd -10, WAN -20, alerts (cpu, disk, svc = 3) -9 -> -4 -> 0
	if hs["score"] != 0.0 || hs["grade"] != "F" || len(hs["checks"].([]any)) != 8 {
		t.Errorf("system/health = %s", body)
	}
	var ph []map[string]any
	_, body, _ = h.get(t, "/api/processes/history", "viewer")
	json.Unmarshal(body, &ph)
	if len(ph) != 1 || !strings.Contains(string(body), `"cpu":[{"name":"postgres","pid":200,"val":"50.0%"}]`) {
		t.Errorf("processes/history = %s", body)
	}
	// a fixture source has no process table: []
	_, body, _ = h.get(t, "/api/processes/current", "viewer")
	if string(body) != "[]\n" && string(body) != "[]" {
		t.Errorf("processes/current = %s", body)
	}
	// metrics/available
	var av []map[string]any
	_, body, _ = h.get(t, "/api/metrics/available", "viewer")
	json.Unmarshal(body, &av)
	found := map[string]string{}
	for _, e := range av {
		found[e["name"].(string)] = e["type"].(string)
	}
	if found["cpuPercent"] != "number" || found["cpuTemp"] != "string_numeric" || found["gpu_temp"] != "history" || found["hostname"] != "" {
		t.Errorf("metrics/available = %v", found)
	}
}

func TestHealthScoreHealthy(t *testing.T) {
	got := HealthScore(map[string]any{"cpuPercent": 10.0, "memPercent": 20, "disks": []map[string]any{{"mount": "/", "percent": 50}},
		"netHealth": map[string]any{"configured": true, "wan": "Up"}})
	if got["score"] != 100 || got["grade"] != "A" || got["hostname"] != "--" {
		t.Errorf("%v", got)
	}
}

func TestProcessesCurrentFromHost(t *testing.T) {
	host := collect.NewHost(collect.HostOptions{Root: "testdata-none"})
	h := newHarness(t, host, nil)
	code, body, _ := h.get(t, "/api/processes/current", "viewer")
	if code != 200 || (string(body) != "[]\n" && string(body) != "[]") {
		t.Errorf("processes/current on an empty root = %d %s", code, body)
	}
}

func TestPerHostSeriesAndRetention(t *testing.T) {
	h := newHarness(t, fixedSource(map[string]any{}), func(d *Deps) { d.HistoryDays = 2 })
	ctx := context.Background()
	now := h.clock.Now().Unix()
	// agents' samples (the agents room writes cpu/mem/disk short names)
	for i := int64(0); i < 10; i++ {
		if err := h.room.WriteSamples(ctx, "web01", now-600+i*60, map[string]float64{"cpu": float64(10 * i), "disk_percent{/srv}": 70}); err != nil {
			t.Fatal(err)
		}
	}
	h.room.WriteSamples(ctx, "", now-60, map[string]float64{"cpu_percent": 99})
	_, body, _ := h.get(t, "/api/history/cpu_percent?range=1&resolution=3600&host=web01", "viewer")
	if strings.TrimSpace(string(body)) != `[{"time":1749996000,"value":15},{"time":1749999600,"value":65}]` {
		t.Errorf("per-host series: %s, want web01's samples only (hourly means 15 and 65)", body)
	}
	_, body, _ = h.get(t, "/api/metrics/correlate?metrics=agent_web01_cpu,cpu_percent&hours=1", "viewer")
	var corr map[string][]Point
	json.Unmarshal(body, &corr)
	if len(corr["agent_web01_cpu"]) == 0 || corr["cpu_percent"][0].Value != 99 {
		t.Errorf("correlate (legacy agent name): %s", body)
	}
	_, body, _ = h.get(t, "/api/history/disk_percent?range=1&resolution=3600&host=web01&label=/srv", "viewer")
	if !strings.Contains(string(body), `"value":70`) {
		t.Errorf("labelled agent series: %s", body)
	}

	// Retention: raw keeps min(24 h, days), rollups min(7 d, days) / days.
	old := now - 3*86400
	seed(t, h, "", "mem_percent", "", old, old+600, 5, func(int64) float64 { return 1 })
	seed(t, h, "", "mem_percent", "", now-30*3600, now-30*3600+600, 5, func(int64) float64 { return 1 })
	h.db.W.Exec(`INSERT INTO metric_rollup_1h (series_id, ts, value) SELECT id, ?, 1 FROM metric_series`, old)
	if err := h.room.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	var raw, hour int
	h.db.R.QueryRow(`SELECT COUNT(*) FROM metric_samples WHERE ts < ?`, now-86400).Scan(&raw)
	h.db.R.QueryRow(`SELECT COUNT(*) FROM metric_rollup_1h WHERE ts < ?`, now-2*86400).Scan(&hour)
	if raw != 0 || hour != 0 {
		t.Errorf("after prune: %d raw rows older than 24 h, %d hourly rows older than 2 days", raw, hour)
	}
	var kept int
	h.db.R.QueryRow(`SELECT COUNT(*) FROM metric_samples`).Scan(&kept)
	if kept == 0 {
		t.Error("prune removed recent rows")
	}
}

func TestDashboardLayout(t *testing.T) {
	h := newHarness(t, fixedSource(map[string]any{}), nil)
	_, body, _ := h.get(t, "/api/dashboard", "viewer")
	if strings.TrimSpace(string(body)) != "{}" {
		t.Errorf("never saved: %s, want {}", body)
	}
	post := func(tok, s string) int {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/dashboard", strings.NewReader(s))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := post("viewer", `{"card_order":["cpu","mem"],"card_vis":{"cpu":true}}`); c != 200 {
		t.Fatalf("save: %d", c)
	}
	h.clock.Set(h.clock.Now().Add(time.Minute))
	if c := post("viewer", `{"card_theme":{"cpu":"blue"},"card_order":null}`); c != 200 {
		t.Fatalf("save 2: %d", c)
	}
	_, body, _ = h.get(t, "/api/dashboard", "viewer")
	want := `{"username":"vera","card_order":["cpu","mem"],"card_vis":{"cpu":true},"card_theme":{"cpu":"blue"},"updated_at":1750000060}`
	if strings.TrimSpace(string(body)) != want {
		t.Errorf("got %s\nwant %s", body, want)
	}
	_, body, _ = h.get(t, "/api/dashboard", "admin")
	if strings.TrimSpace(string(body)) != "{}" {
		t.Errorf("layouts are per user: admin sees %s", body)
	}
	if c := post("viewer", `[1,2]`); c != 400 {
		t.Errorf("non-object body: %d, want 400", c)
	}
	_, body, _ = h.get(t, "/api/plugins", "viewer")
	if strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("plugins without a plugin source: %s", body)
	}
}
