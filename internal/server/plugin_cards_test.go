package server_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// An installed, enabled plugin's card reaches /api/stats (and the stats
// router's /api/plugins): the stats room reads the plugins room's cards.
func TestPluginCardInStats(t *testing.T) {
	env := servertest.NewWith(t, servertest.Setup{Jobs: true,
		// A fixture source: the host collectors are not under test.
		Options: []server.Option{server.WithStatsInterval(200 * time.Millisecond),
			server.WithStatsSource(collect.SourceFunc(func(context.Context) (map[string]any, error) {
				return map[string]any{"cpuPercent": 1.0, "hostname": "test"}, nil
			}))},
		Before: func(dir string) {
			pd := filepath.Join(dir, "plugins")
			if err := os.MkdirAll(pd, 0o755); err != nil {
				t.Fatal(err)
			}
			script := "#!/bin/sh\nif [ \"$1\" = describe ]; then echo '{\"name\":\"Hello\",\"icon\":\"fa-star\",\"interval\":1}'; else echo '{\"data\":{\"greeting\":\"hi\"}}'; fi\n"
			if err := os.WriteFile(filepath.Join(pd, "hello.sh"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
		}})
	if st, b := env.Do(http.MethodPost, "/api/plugins/hello/enable", env.Token("admin"), nil); st != http.StatusOK {
		t.Fatalf("enable: %d %s", st, b)
	}
	viewer := env.Token("viewer")
	card := func() map[string]any {
		var snap struct {
			Plugins []map[string]any `json:"plugins"`
		}
		if st := env.JSON(http.MethodGet, "/api/stats", viewer, nil, &snap); st != http.StatusOK {
			t.Fatalf("stats: %d", st)
		}
		for _, c := range snap.Plugins {
			if c["id"] == "hello" {
				return c
			}
		}
		return nil
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := card()
		if d, _ := c["data"].(map[string]any); d != nil && d["greeting"] == "hi" {
			if c["name"] != "Hello" || c["icon"] != "fa-star" {
				t.Fatalf("card: %v", c)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the plugin's card never reached /api/stats (last: %v)", c)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var cards []map[string]any
	if st := env.JSON(http.MethodGet, "/api/plugins", viewer, nil, &cards); st != http.StatusOK || len(cards) != 1 || cards[0]["id"] != "hello" {
		t.Fatalf("/api/plugins: %d %v", st, cards)
	}
}
