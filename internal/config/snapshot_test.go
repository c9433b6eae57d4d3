package config_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReadsDuringWrites: readers never see a torn or stale-after-write
// value while writes go on (run with -race).
func TestReadsDuringWrites(t *testing.T) {
	st, _ := open(t)
	if _, err := st.Update(map[string]any{"radarIps": "127.0.0.0", "piholeToken": "t0"}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v := st.Current()
				if len(v.RadarIps) != 1 || v.PiholeToken == "" {
					t.Errorf("torn read: %v %q", v.RadarIps, v.PiholeToken)
					return
				}
				_ = st.Masked()
				_ = st.Get()
			}
		}()
	}
	for i := 1; i <= 20; i++ {
		want := fmt.Sprintf("127.0.0.%d", i)
		if _, err := st.Update(map[string]any{"radarIps": want, "piholeToken": fmt.Sprintf("t%d", i)}); err != nil {
			t.Fatal(err)
		}
		// A write through the API is in force at once.
		if got := st.Current().RadarIps[0]; got != want {
			t.Fatalf("after write %d: %s", i, got)
		}
	}
	close(stop)
	wg.Wait()
}

// TestHandEditSeen: a change made to config.yaml by hand is read without
// a restart (within the recheck period, a second).
func TestHandEditSeen(t *testing.T) {
	st, _ := open(t)
	if _, err := st.Update(map[string]any{"monitoredServices": "nginx"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.Path(), []byte("web:\n  monitoredServices: sshd, cron\n  myOwnKey: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for st.String("monitoredServices") != "sshd, cron" {
		if time.Now().After(deadline) {
			t.Fatalf("hand edit not seen: %q", st.String("monitoredServices"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v := st.Current().MonitoredServices; len(v) != 2 || v[1] != "cron" {
		t.Fatalf("typed = %v", v)
	}
	// A save keeps the key written by hand.
	if _, err := st.Update(map[string]any{"radarIps": "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(st.Path())
	if want := "myOwnKey: 1"; !strings.Contains(string(raw), want) {
		t.Fatalf("hand-written key lost:\n%s", raw)
	}
}
