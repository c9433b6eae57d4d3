package agents_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// Wrong agent keys are limited per client address: a burst of 20, then
// 429 with Retry-After (before the key is compared, on the report and the
// WebSocket endpoints alike); valid keys never draw from the budget, and
// another address is not affected.
func TestWrongAgentKeysLimitedPerAddress(t *testing.T) {
	// A clock that stands still unless moved, so that no token refills
	// while a slow (race-instrumented, shared) machine runs the test.
	var clockMu sync.Mutex
	now := time.Now()
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	advance := func(d time.Duration) { clockMu.Lock(); now = now.Add(d); clockMu.Unlock() }
	env := servertest.NewWith(t, servertest.Setup{Config: []servertest.Config{func(c *config.Config) { c.TrustProxy = true }},
		Options: []server.Option{server.WithClock(clock)}})
	if _, err := env.Server.Settings.Update(map[string]any{"agentKeys": testKey}); err != nil {
		t.Fatal(err)
	}
	report := func(from, key string) *http.Response {
		t.Helper()
		resp := env.Request(http.MethodPost, "/api/agent/report", "", []byte(`{"hostname":"guard-host","agent_version":"3.0.1"}`),
			map[string]string{"X-Agent-Key": key, "Content-Type": "application/json", "X-Forwarded-For": from})
		resp.Body.Close()
		return resp
	}
	const attacker, agent, other = "192.0.2.10", "192.0.2.20", "192.0.2.30"

	// Valid reports interleaved with 19 wrong keys: the valid ones give
	// their token back, so the 20th wrong key is still answered 403.
	for i := range 19 {
		if st := report(attacker, "wrong-"+strconv.Itoa(i)).StatusCode; st != http.StatusForbidden {
			t.Fatalf("wrong key %d: %d", i, st)
		}
		if st := report(attacker, testKey).StatusCode; st != http.StatusOK {
			t.Fatalf("valid report between guesses: %d", st)
		}
	}
	if st := report(attacker, "wrong-19").StatusCode; st != http.StatusForbidden {
		t.Fatalf("20th wrong key: %d", st)
	}
	// The budget is spent: 429 with Retry-After, the key not even compared.
	resp := report(attacker, "wrong-20")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("21st wrong key: %d", resp.StatusCode)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 3 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	ws := env.Request(http.MethodGet, "/api/agent/ws", "", nil, map[string]string{"X-Agent-Key": "wrong-ws", "X-Forwarded-For": attacker,
		"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
	ws.Body.Close()
	if ws.StatusCode != http.StatusTooManyRequests || ws.Header.Get("Retry-After") == "" {
		t.Fatalf("WebSocket handshake with a wrong key after the budget: %d", ws.StatusCode)
	}

	// One token refills per 3 s: one more guess is compared, then 429.
	advance(3 * time.Second)
	if st := report(attacker, "wrong-21").StatusCode; st != http.StatusForbidden {
		t.Fatalf("wrong key after a refill: %d", st)
	}
	if st := report(attacker, "wrong-22").StatusCode; st != http.StatusTooManyRequests {
		t.Fatalf("second wrong key after one refill: %d", st)
	}

	// A valid agent elsewhere is never slowed, however often it reports.
	for i := range 100 {
		if st := report(agent, testKey).StatusCode; st != http.StatusOK {
			t.Fatalf("valid report %d: %d", i, st)
		}
	}

	// Concurrent guesses cannot overtake the count: of 60 at once from a
	// fresh address, exactly 20 are compared.
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := report(other, "wrong-c"+strconv.Itoa(i)).StatusCode
			mu.Lock()
			got[st]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got[http.StatusForbidden] != 20 || got[http.StatusTooManyRequests] != 40 {
		t.Fatalf("concurrent wrong keys: %v", got)
	}
}
