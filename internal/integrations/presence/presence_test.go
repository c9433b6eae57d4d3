package presence_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/integrations/presence"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

// TestChanged drives the presence state with a scripted ping: "changed"
// is true exactly on the cycle after a device's status flipped.
func TestChanged(t *testing.T) {
	var mu sync.Mutex
	up := map[string]bool{"10.0.0.2": true}
	p := presence.New(nil)
	p.Ping = func(ctx context.Context, ip string) error {
		mu.Lock()
		defer mu.Unlock()
		if up[ip] {
			return nil
		}
		return errors.New("no reply")
	}
	st := provider.Settings{"devicePresenceIps": "10.0.0.2|Phone, 10.0.0.3 ,nonsense|Bad,10.0.0.2|dup"}
	items := func() []any { return providertest.Block(t, p, st, 3*time.Second).([]any) }
	status := func(it any) (string, bool) {
		m := it.(map[string]any)
		return m["status"].(string), m["changed"].(bool)
	}
	first := items()
	if len(first) != 3 {
		t.Fatalf("items: %v", first)
	}
	m := first[1].(map[string]any)
	providertest.Equal(t, "offline item", m, map[string]any{"ip": "10.0.0.3", "name": "10.0.0.3", "status": "offline",
		"ms": 0, "changed": false})
	if s, c := status(first[0]); s != "online" || c || first[0].(map[string]any)["ms"].(float64) < 1 ||
		first[0].(map[string]any)["name"] != "Phone" {
		t.Errorf("first cycle: %v", first[0])
	}
	mu.Lock()
	up["10.0.0.2"], up["10.0.0.3"] = false, true
	mu.Unlock()
	second := items()
	if s, c := status(second[0]); s != "offline" || !c {
		t.Errorf("phone went away: %v", second[0])
	}
	if s, c := status(second[1]); s != "online" || !c {
		t.Errorf("10.0.0.3 came up: %v", second[1])
	}
	if s, c := status(items()[0]); s != "offline" || c {
		t.Errorf("third cycle, unchanged: %v %v", s, c)
	}
}

// TestRealPing pings loopback through collect.Ping when the host allows it.
func TestRealPing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := collect.Ping(ctx, "127.0.0.1"); err != nil {
		t.Skipf("this host cannot ping (%v)", err)
	}
	got := providertest.Block(t, presence.New(nil), provider.Settings{"devicePresenceIps": "127.0.0.1|loopback"}, 3*time.Second)
	if it := got.([]any)[0].(map[string]any); it["status"] != "online" || it["name"] != "loopback" {
		t.Errorf("loopback: %v", it)
	}
}

func TestNotConfigured(t *testing.T) {
	providertest.Equal(t, "unconfigured", providertest.Block(t, presence.New(nil), provider.Settings{}, time.Second), []any{})
}
