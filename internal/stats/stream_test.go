package stats

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/events"
)

// seqSource returns a snapshot whose "seq" counts collections.
func seqSource(n *atomic.Int64) collect.Source {
	return collect.SourceFunc(func(context.Context) (map[string]any, error) {
		return map[string]any{"seq": n.Add(1), "cpuPercent": 12.5, "hostname": "fixture",
			"services": []map[string]any{{"name": "nginx", "status": "active"}, {"name": "sshd", "status": "failed"}}}, nil
	})
}

// readEvent reads one "data: ..." event (skipping comments) from the stream.
func readEvent(br *bufio.Reader) (string, error) {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(line, "data: ") {
			if blank, err := br.ReadString('\n'); err != nil || blank != "\n" {
				return "", err
			}
			return strings.TrimSuffix(strings.TrimPrefix(line, "data: "), "\n"), nil
		}
	}
}

func TestStreamFanOut(t *testing.T) {
	var seq atomic.Int64
	h := newHarness(t, seqSource(&seq), nil)
	ctx := context.Background()
	if err := h.room.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}
	client := &http.Client{Transport: tr}
	time.Sleep(50 * time.Millisecond)
	runtime.GC()
	baseline := runtime.NumGoroutine()

	const clients = 200
	type conn struct {
		resp *http.Response
		br   *bufio.Reader
	}
	conns := make([]conn, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(h.srv.URL + "/api/stream?token=viewer")
			if err != nil {
				errs <- err
				return
			}
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
				errs <- errBoom
				return
			}
			br := bufio.NewReader(resp.Body)
			if _, err := readEvent(br); err != nil { // the immediate first event
				errs <- err
				return
			}
			conns[i] = conn{resp, br}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("client: %v", err)
	}
	collections := seq.Load()

	// One collection reaches every client: the same bytes for all.
	if err := h.room.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	got := make([]string, clients)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := readEvent(c.br)
			if err != nil {
				t.Errorf("client %d: %v", i, err)
			}
			got[i] = ev
		}()
	}
	wg.Wait()
	var first map[string]any
	if err := json.Unmarshal([]byte(got[0]), &first); err != nil {
		t.Fatalf("event is not one-line JSON: %q", got[0])
	}
	if first["seq"] != float64(collections+1) || first["collector_status"] != "healthy" {
		t.Errorf("event %v, want seq %d healthy", first, collections+1)
	}
	strip := func(s string) string { return s[:strings.Index(s, `"collector_pulse"`)] }
	for i, g := range got {
		if strip(g) != strip(got[0]) {
			t.Fatalf("client %d got a different snapshot:\n%s\n%s", i, g, got[0])
		}
	}
	if n := seq.Load(); n != collections+1 {
		t.Errorf("%d collections for %d clients, want exactly one (fan-out, no collector per client)", n-collections, clients)
	}

	// Disconnect everyone: the goroutine count returns to its baseline.
	for _, c := range conns {
		c.resp.Body.Close()
	}
	tr.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		n := runtime.NumGoroutine()
		if n <= baseline+2 {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines %d, baseline %d after disconnect\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStreamFramingKeepAliveAndView(t *testing.T) {
	var seq atomic.Int64
	h := newHarness(t, seqSource(&seq), nil)
	h.room.keepAlive = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.srv.URL+"/api/stream?services=sshd&radarIps=10.0.0.1&kumaUrl=http://evil", nil)
	req.Header.Set("Authorization", "Bearer viewer")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	br := bufio.NewReader(resp.Body)
	// no snapshot yet: the stream collects once synchronously
	ev, err := readEvent(br)
	if err != nil {
		t.Fatal(err)
	}
	var snap map[string]any
	json.Unmarshal([]byte(ev), &snap)
	svcs := snap["services"].([]any)
	if len(svcs) != 1 || svcs[0].(map[string]any)["name"] != "sshd" {
		t.Errorf("services filter: %v, want only sshd", svcs)
	}
	if _, ok := snap["kumaUrl"]; ok {
		t.Error("query parameters leaked into the snapshot")
	}
	// keep-alive comment
	line, _ := br.ReadString('\n')
	blank, _ := br.ReadString('\n')
	if line != ": ping\n" || blank != "\n" {
		t.Errorf("keep-alive %q %q, want \": ping\\n\\n\"", line, blank)
	}
	// the filter never reached the collector: /api/stats still shows both
	_, body, _ := h.get(t, "/api/stats", "viewer")
	if !strings.Contains(string(body), `"nginx"`) {
		t.Errorf("a viewer's stream parameters changed the global snapshot: %s", body)
	}
	// unauthenticated streams are refused before they start
	if code, _, _ := h.get(t, "/api/stream", ""); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _, _ := h.get(t, "/api/stream?token=nope", ""); code != 401 {
		t.Errorf("bad token: %d, want 401", code)
	}
}

func TestStatsSnapshotAndBus(t *testing.T) {
	var seq atomic.Int64
	h := newHarness(t, seqSource(&seq), nil)
	ch, cancel := h.bus.Subscribe(events.TopicStats, 4)
	defer cancel()
	code, body, hdr := h.get(t, "/api/stats", "viewer")
	if code != 200 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", code, hdr)
	}
	var snap map[string]any
	json.Unmarshal(body, &snap)
	if snap["collector_status"] != "healthy" || snap["collector_pulse"] != 0.0 || snap["timestamp"] != 1_750_000_000.0 {
		t.Errorf("snapshot %v", snap)
	}
	// built-in alert: failed service
	if b, _ := json.Marshal(snap["alerts"]); string(b) != `[{"level":"danger","msg":"Service failed: sshd","severity":"danger"}]` {
		t.Errorf("alerts %s", b)
	}
	for _, k := range []string{"pihole", "plex", "truenas"} {
		if v, ok := snap[k]; !ok || v != nil {
			t.Errorf("%s = %v, want null (not configured)", k, v)
		}
	}
	select {
	case ev := <-ch:
		if ev.Data.(map[string]any)["seq"] != int64(1) {
			t.Errorf("bus event %v", ev.Data)
		}
	case <-time.After(time.Second):
		t.Error("no events.TopicStats publication")
	}
	// a second request answers from memory: no new collection
	h.get(t, "/api/stats", "viewer")
	if seq.Load() != 1 {
		t.Errorf("%d collections, want 1 (no collection per request)", seq.Load())
	}
	// stalled after 2.5 intervals
	h.clock.Set(h.clock.Now().Add(13 * time.Second))
	_, body, _ = h.get(t, "/api/stats", "viewer")
	if !strings.Contains(string(body), `"collector_pulse":13.0,"collector_status":"stalled"`) {
		t.Errorf("stalled: %s", body[len(body)-60:])
	}
}

func TestNoSecretInSnapshot(t *testing.T) {
	src := fixedSource(map[string]any{"cpuPercent": 1.0,
		"pihole": map[string]any{"queries": 5, "api_token": "s3cr3t-tok"},
		"plex":   map[string]any{"sessions": 1, "plexToken": "s3cr3t-plex", "password": "s3cr3t-pw"}})
	h := newHarness(t, src, func(d *Deps) {
		d.Settings = staticSettings(map[string]any{"piholeToken": "s3cr3t-set", "monitoredServices": "nginx"})
	})
	_, body, _ := h.get(t, "/api/stats", "viewer")
	if strings.Contains(string(body), "s3cr3t") {
		t.Errorf("secret in /api/stats: %s", body)
	}
	if !strings.Contains(string(body), `"queries":5`) {
		t.Errorf("non-secret integration data dropped: %s", body)
	}
}
