package tailscale_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/tailscale"
)

// fakeTailscale writes an executable that runs body for `status --json`.
func fakeTailscale(t *testing.T, body string) string {
	bin := filepath.Join(t.TempDir(), "tailscale")
	script := "#!/bin/sh\n[ \"$*\" = \"status --json\" ] || exit 2\n" + body + "\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestStatus(t *testing.T) {
	fixture, err := filepath.Abs("testdata/status.json")
	if err != nil {
		t.Fatal(err)
	}
	counter := filepath.Join(t.TempDir(), "runs")
	p := tailscale.New(nil)
	p.Bin = fakeTailscale(t, "echo x >> '"+counter+"'; cat '"+fixture+"'")
	want := map[string]any{
		"self": map[string]any{"hostname": "noba-host", "ip": "100.101.102.103", "os": "linux", "relay": "fra"},
		"peers": []any{
			map[string]any{"hostname": "exit", "ip": "100.64.0.3", "os": "linux", "online": false, "relay": "fra",
				"exit_node": true, "last_seen": "2024-06-01T08:00:00Z"},
			map[string]any{"hostname": "phone", "ip": "100.64.0.2", "os": "iOS", "online": true, "relay": "ams",
				"exit_node": false, "last_seen": "2024-06-10T11:58:00Z"}},
		"onlineCount": 1, "totalCount": 2, "tailnet": "me@example.com", "state": "Running"}
	providertest.Equal(t, "tailscale block", providertest.Block(t, p, provider.Settings{}, 3*time.Second), want)
	providertest.Equal(t, "cached", providertest.Block(t, p, provider.Settings{}, 3*time.Second), want)
	if b, _ := os.ReadFile(counter); len(b) != 2 {
		t.Errorf("runs within the TTL: got %d, want 1", len(b)/2)
	}
}

func TestNull(t *testing.T) {
	for name, bin := range map[string]string{
		"not installed":      filepath.Join(t.TempDir(), "tailscale"),
		"daemon not running": fakeTailscale(t, "echo 'failed to connect to local tailscaled' >&2; exit 1"),
		"garbage":            fakeTailscale(t, "echo not json"),
	} {
		p := tailscale.New(nil)
		p.Bin = bin
		providertest.Equal(t, name, providertest.Block(t, p, provider.Settings{}, 3*time.Second), nil)
	}
}
