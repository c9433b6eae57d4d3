package agents

import (
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/deploy/systemd"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

// artefact is one built agent binary in the agent directory.
type artefact struct {
	path     string
	version  string
	checksum string
	size     int64
	mod      time.Time
}

var artefactCache sync.Map // path -> artefact

var ldVersionRE = regexp.MustCompile(`wire\.AgentVersion=([0-9A-Za-z._+-]+)`)

// goOS and goArch map what an agent reports (uname style) to Go names.
func goOS(platform string) string {
	switch strings.ToLower(platform) {
	case "linux":
		return "linux"
	case "windows":
		return "windows"
	case "darwin":
		return "darwin"
	case "freebsd":
		return "freebsd"
	}
	return strings.ToLower(platform)
}

func goArch(arch string) string {
	switch strings.ToLower(arch) {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "armv7l", "armv7", "armv6l", "arm":
		return "arm"
	case "i386", "i686", "386":
		return "386"
	}
	return strings.ToLower(arch)
}

var osArchRE = regexp.MustCompile(`^[a-z0-9]{1,16}$`)

// artefactFor returns the agent binary for goos/goarch: the file
// noba-agent-<os>-<arch>[.exe] in the agent directory, its version read
// from the binary's build settings (-ldflags -X ...wire.AgentVersion=), a
// sidecar <file>.version, or else this tree's version.
func (r *Room) artefactFor(goos, goarch string) (artefact, bool) {
	if r.d.AgentDir == "" || !osArchRE.MatchString(goos) || !osArchRE.MatchString(goarch) {
		return artefact{}, false
	}
	name := "noba-agent-" + goos + "-" + goarch
	if goos == "windows" {
		name += ".exe"
	}
	p := filepath.Join(r.d.AgentDir, name)
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return artefact{}, false
	}
	if v, ok := artefactCache.Load(p); ok {
		a := v.(artefact)
		if a.size == st.Size() && a.mod.Equal(st.ModTime()) {
			return a, true
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return artefact{}, false
	}
	defer f.Close()
	hs := sha256.New()
	if _, err := io.Copy(hs, f); err != nil {
		return artefact{}, false
	}
	a := artefact{path: p, checksum: "sha256:" + hex.EncodeToString(hs.Sum(nil)), size: st.Size(), mod: st.ModTime()}
	if bi, err := buildinfo.ReadFile(p); err == nil {
		for _, s := range bi.Settings {
			if s.Key == "-ldflags" {
				if m := ldVersionRE.FindStringSubmatch(s.Value); m != nil {
					a.version = m[1]
				}
			}
		}
	}
	if b, err := os.ReadFile(p + ".version"); err == nil {
		if v := strings.TrimSpace(string(b)); v != "" {
			a.version = v
		}
	}
	// -trimpath builds do not record -ldflags: ask a build for this
	// platform itself.
	if a.version == "" && goos == runtime.GOOS && goarch == runtime.GOARCH {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		out, err := exec.CommandContext(ctx, p, "--version").Output()
		cancel()
		if v, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "NOBA Agent "); err == nil && ok && wire.CompareVersions(v, "0") > 0 {
			a.version = v
		}
	}
	if a.version == "" {
		a.version = wire.AgentVersion
	}
	artefactCache.Store(p, a)
	return a, true
}

// update serves GET /api/agent/update?os=&arch=: the agent binary for the
// requesting platform (default: what the agent last reported), with
// X-Agent-Version and X-File-Checksum.
func (r *Room) update(w http.ResponseWriter, req *http.Request) {
	pk, kerr := r.checkKey(req, false, "Missing X-Agent-Key", false)
	if kerr != nil {
		kerr.write(w)
		return
	}
	q := req.URL.Query()
	goos, goarch := q.Get("os"), q.Get("arch")
	if host := req.Header.Get(wire.HeaderAgentHostname); host != "" && pk.allows(host) && (goos == "" || goarch == "") {
		if s, ok := r.hub.snapshot(host); ok {
			if goos == "" {
				goos = goOS(s.platform)
			}
			if goarch == "" {
				goarch = goArch(s.arch)
			}
		}
	}
	if goos == "" {
		goos = "linux"
	}
	if goarch == "" {
		goarch = "amd64"
	}
	a, ok := r.artefactFor(goOS(goos), goArch(goarch))
	if !ok {
		httpx.WriteError(w, http.StatusNotFound, "Agent file not found")
		return
	}
	w.Header().Set(wire.HeaderAgentVersion, a.version)
	w.Header().Set(wire.HeaderFileChecksum, a.checksum)
	w.Header().Set("Content-Disposition", `attachment; filename="`+filepath.Base(a.path)+`"`)
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeFile(w, req, a.path)
}

// autoUpdate returns an update_agent command when a newer Go build for the
// host's platform is available; a Python agent is never handed a Go
// binary, and a failed attempt is retried at most once an hour.
func (r *Room) autoUpdate(host, version, impl, platform, arch string, cmds []wire.QueuedCommand, now time.Time) *wire.QueuedCommand {
	if impl != wire.AgentImpl || version == "" {
		return nil
	}
	for _, c := range cmds {
		if c.Type == wire.CmdUpdateAgent {
			return nil
		}
	}
	a, ok := r.artefactFor(goOS(platform), goArch(arch))
	if !ok || wire.CompareVersions(a.version, version) <= 0 {
		return nil
	}
	r.hub.mu.Lock()
	ag := r.hub.getLocked(host)
	if ag.updateVersion == a.version && now.Sub(ag.updateAt) < time.Hour {
		r.hub.mu.Unlock()
		return nil
	}
	ag.updateVersion, ag.updateAt = a.version, now
	id := fmt.Sprintf("auto-update-%d", now.Unix())
	ag.issueLocked(id, now.Unix())
	r.hub.mu.Unlock()
	return &wire.QueuedCommand{ID: id, Type: wire.CmdUpdateAgent,
		Params: map[string]any{}, QueuedBy: "auto-update", QueuedAt: now.Unix()}
}

// serverURL works out the URL agents should use (spec 20 §12.2): the
// serverUrl setting, else the request's host (the forwarded one when a
// trusted proxy sent it). It refuses
// localhost addresses, which a remote host cannot reach.
func (r *Room) serverURL(req *http.Request, override, localhostMsg, noHostMsg string, allowLoopback bool) (string, error) {
	u := strings.TrimSpace(override)
	if u == "" && r.d.Settings != nil {
		u = strings.TrimSpace(r.d.Settings.String("serverUrl"))
	}
	if u == "" {
		// X-Forwarded-* are believed only from a trusted reverse proxy
		// (NOBA_TRUST_PROXY / NOBA_TRUSTED_PROXIES, as for the client
		// address): anyone else could make the server hand out a script
		// or update pointing at their own host.
		proxied := httpx.FromTrustedProxy(req.Context())
		host := ""
		if proxied {
			host = req.Header.Get("X-Forwarded-Host")
		}
		if host == "" {
			host = req.Host
		}
		if host == "" {
			return "", httpx.Invalid("%s", noHostMsg)
		}
		scheme := "http"
		if r.d.Settings != nil && truthy(r.d.Settings.Value("sslEnabled")) {
			scheme = "https"
		} else if p := req.Header.Get("X-Forwarded-Proto"); proxied && (p == "https" || p == "http") {
			scheme = p
		}
		u = scheme + "://" + host
	}
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.User != nil {
		return "", httpx.Invalid("Invalid server URL")
	}
	h := pu.Hostname()
	if !allowLoopback && (h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")) {
		return "", httpx.Invalid("%s", localhostMsg)
	}
	if ip := net.ParseIP(h); ip == nil && !wire.ValidHostname(h) {
		return "", httpx.Invalid("Invalid server URL")
	}
	return strings.TrimRight(pu.Scheme+"://"+pu.Host+pu.Path, "/"), nil
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		x = strings.ToLower(strings.TrimSpace(x))
		return x == "1" || x == "true" || x == "yes" || x == "on"
	case float64:
		return x != 0
	}
	return false
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// installScript serves GET /api/agent/install-script (spec 20 §12.2) with
// every inserted value shell-quoted and the config written mode 600.
func (r *Room) installScript(w http.ResponseWriter, req *http.Request) {
	_, kerr := r.checkKey(req, true, "Missing agent key", false)
	if kerr != nil {
		kerr.write(w)
		return
	}
	server, err := r.serverURL(req, "",
		"Cannot generate install script when accessing via localhost. Set 'serverUrl' in Settings or access NOBA via its network address.",
		"Server URL could not be determined.", false)
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	key := agentKeyOf(req, true)
	w.Header().Set("Content-Type", "text/x-shellscript")
	w.Header().Set("Content-Disposition", "inline")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, InstallScript(server, key))
}

// InstallScript renders the agent install script for server and key. With
// systemd running it installs deploy/systemd/noba-agent.service (hardened,
// documented there), enables and (re)starts it; otherwise it leaves the
// agent installed and says how to start it. NOBA_INSTALL_ROOT prefixes every
// path it writes (image builders and tests); systemd is then looked for under
// that root.
func InstallScript(server, key string) string {
	return `#!/usr/bin/env bash
# NOBA agent installer
set -euo pipefail
ROOT="${NOBA_INSTALL_ROOT:-}"
INSTALL_DIR="$ROOT/opt/noba-agent"
CONFIG="$ROOT/etc/noba-agent.yaml"
SERVER=` + shellQuote(server) + `
KEY=` + shellQuote(key) + `
HOSTNAME_VALUE="$(hostname)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
case "$(uname -s)" in Linux) OS=linux ;; Darwin) OS=darwin ;; FreeBSD) OS=freebsd ;; *) echo "[noba] unsupported OS" >&2; exit 1 ;; esac
case "$(uname -m)" in x86_64|amd64) ARCH=amd64 ;; aarch64|arm64) ARCH=arm64 ;; armv7l|armv6l) ARCH=arm ;; i386|i686) ARCH=386 ;; riscv64) ARCH=riscv64 ;; *) echo "[noba] unsupported architecture" >&2; exit 1 ;; esac
echo "[noba] Installing NOBA agent ($OS/$ARCH) from $SERVER"
$SUDO mkdir -p "$INSTALL_DIR" "$ROOT/etc"
TMP="$(mktemp)"
HDRS="$(mktemp)"
trap 'rm -f "$TMP" "$HDRS"' EXIT
curl -fsSL -D "$HDRS" -H "X-Agent-Key: $KEY" "$SERVER/api/agent/update?os=$OS&arch=$ARCH" -o "$TMP"
WANT="$(grep -i '^x-file-checksum:' "$HDRS" | tr -d '\r' | sed 's/^[^:]*: *sha256://I')"
GOT="$(sha256sum "$TMP" | cut -d' ' -f1)"
if [ -n "$WANT" ] && [ "$WANT" != "$GOT" ]; then echo "[noba] checksum mismatch" >&2; exit 1; fi
$SUDO install -m 0755 "$TMP" "$INSTALL_DIR/noba-agent"
echo "[noba] Writing $CONFIG"
umask 077
printf 'server: %s\napi_key: %s\ninterval: 30\nhostname: %s\n' "$SERVER" "$KEY" "$HOSTNAME_VALUE" | $SUDO tee "$CONFIG" >/dev/null
$SUDO chmod 600 "$CONFIG"
if [ -d "$ROOT/run/systemd/system" ] && command -v systemctl >/dev/null 2>&1; then
  echo "[noba] Installing systemd unit noba-agent.service"
  $SUDO mkdir -p "$ROOT/etc/systemd/system"
  $SUDO tee "$ROOT/etc/systemd/system/noba-agent.service" >/dev/null <<'UNIT'
` + systemd.AgentUnit + `UNIT
  $SUDO chmod 644 "$ROOT/etc/systemd/system/noba-agent.service"
  $SUDO systemctl daemon-reload
  $SUDO systemctl enable noba-agent
  $SUDO systemctl restart noba-agent
  echo "[noba] Agent installed and started"
else
  echo "[noba] systemd not found: start $INSTALL_DIR/noba-agent --config $CONFIG yourself"
fi
`
}
