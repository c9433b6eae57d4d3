package vpn_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/vpn"
)

// fakeWG writes an executable wg that prints script's output for
// `show all dump` and fails otherwise.
func fakeWG(t *testing.T, body string) string {
	dir := t.TempDir()
	bin := filepath.Join(dir, "wg")
	script := "#!/bin/sh\n[ \"$*\" = \"show all dump\" ] || exit 2\n" + body + "\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestDump(t *testing.T) {
	fixture, err := filepath.Abs("testdata/wg-dump.txt")
	if err != nil {
		t.Fatal(err)
	}
	p := vpn.New(nil)
	p.Bin = fakeWG(t, "cat '"+fixture+"'")
	got := providertest.Block(t, p, provider.Settings{}, 3*time.Second)
	providertest.Equal(t, "vpn block", got, map[string]any{"peer_count": 2, "peers": []any{
		map[string]any{"interface": "wg0", "endpoint": "203.0.113.7:51820", "last_handshake": 1718000000,
			"rx_bytes": 123456, "tx_bytes": 654321},
		map[string]any{"interface": "wg0", "endpoint": "", "last_handshake": 0, "rx_bytes": 0, "tx_bytes": 0}}})
	providertest.NoSecret(t, got, "cFJpdmF0ZUtleVByaXZhdGVLZXlQcml2YXRlS2V5MDA9", "UHJlc2hhcmVkUHJlc2hhcmVkUHJlc2hhcmVkMDAwMDA9")
}

func TestNull(t *testing.T) {
	for name, bin := range map[string]string{
		"not installed": filepath.Join(t.TempDir(), "wg"),
		"no interface":  fakeWG(t, "exit 0"),
		"not permitted": fakeWG(t, "echo 'Unable to access interface: Operation not permitted' >&2; exit 1"),
	} {
		p := vpn.New(nil)
		p.Bin = bin
		providertest.Equal(t, name, providertest.Block(t, p, provider.Settings{}, 3*time.Second), nil)
	}
	providertest.Equal(t, "interface without peers", vpn.Parse("wg0\tpriv\tpub\t51820\toff\n"),
		map[string]any{"peers": []any{}, "peer_count": 0})
}

func TestTimeout(t *testing.T) {
	p := vpn.New(nil)
	p.Bin = fakeWG(t, "exec sleep 10")
	start := time.Now()
	providertest.Equal(t, "hung wg", providertest.Block(t, p, provider.Settings{}, 400*time.Millisecond), provider.Timeout())
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}
