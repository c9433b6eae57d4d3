package agents_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/noba-go/noba/deploy/systemd"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/server/servertest"
)

// The install script (and the update URL) take X-Forwarded-Host/Proto only
// from a trusted reverse proxy: from anyone else they would let a caller
// point the script at their own host.
func TestForwardedHeadersOnlyFromTrustedProxies(t *testing.T) {
	script := func(env *servertest.Env, hdr map[string]string) (int, string) {
		t.Helper()
		h := map[string]string{"X-Agent-Key": testKey}
		for k, v := range hdr {
			h[k] = v
		}
		resp := env.Request(http.MethodGet, "/api/agent/install-script", "", nil, h)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	setKeys := func(env *servertest.Env) {
		if _, err := env.Server.Settings.Update(map[string]any{"agentKeys": testKey}); err != nil {
			t.Fatal(err)
		}
	}
	fwd := map[string]string{"X-Forwarded-Host": "evil.example:8080", "X-Forwarded-Proto": "https"}

	// Untrusted peer (the default): the headers are ignored; the request's
	// own host is loopback, which a remote agent cannot reach.
	plain := servertest.New(t)
	setKeys(plain)
	if st, body := script(plain, fwd); st != 400 || strings.Contains(body, "evil.example") || !strings.Contains(body, "localhost") {
		t.Fatalf("forwarded headers from an untrusted peer: %d %s", st, body)
	}

	// The loopback proxy is trusted: its headers are used, and still checked.
	proxied := servertest.NewWith(t, servertest.Setup{Config: []servertest.Config{func(c *config.Config) { c.TrustProxy = true }}})
	setKeys(proxied)
	st, body := script(proxied, map[string]string{"X-Forwarded-Host": "noba.lan:8080", "X-Forwarded-Proto": "https"})
	if st != 200 || !strings.Contains(body, "SERVER='https://noba.lan:8080'") || !strings.Contains(body, "KEY='"+testKey+"'") ||
		!strings.Contains(body, `CONFIG="$ROOT/etc/noba-agent.yaml"`) || !strings.Contains(body, `chmod 600 "$CONFIG"`) ||
		!strings.Contains(body, "\n"+systemd.AgentUnit+"UNIT\n") {
		t.Fatalf("script through the trusted proxy: %d %s", st, body)
	}
	if st, body := script(proxied, map[string]string{"X-Forwarded-Host": "noba.lan:8080'$(id)"}); st != 400 {
		t.Fatalf("hostile forwarded host accepted: %d %s", st, body)
	}
}
