package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

type deployIn struct {
	Body struct {
		Host    string `json:"host"`
		SSHUser string `json:"ssh_user"`
		SSHPass string `json:"ssh_pass"`
		SSHPort any    `json:"ssh_port"`
		// SSHKey is a PEM private key to log in with (else the password,
		// else the server user's own keys).
		SSHKey string `json:"ssh_key"`
		Server string `json:"server_url"`
		// TrustHostKey pins an unknown host key on first use; without it
		// (or a matching HostKeyFingerprint) an unknown key is refused.
		TrustHostKey       bool   `json:"trust_host_key"`
		HostKeyFingerprint string `json:"host_key_fingerprint"`
	}
}

type deployOut struct{ Body map[string]any }

var (
	deployHostRE = regexp.MustCompile(`^[a-zA-Z0-9._:-]+$`)
	deployUserRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
)

const (
	sshDialTimeout = 10 * time.Second
	localhostMsg   = "Cannot deploy agents when accessing NOBA via localhost. Enter your server's reachable address in the Server URL field (e.g. https://noba.example.com:8080)."
)

// deployHTTP decodes the deploy request (a plain handler: the server URL
// defaults to the request's Host).
func (r *Room) deployHTTP(w http.ResponseWriter, req *http.Request) {
	var in deployIn
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, httpx.DefaultMaxBody))
	if err != nil {
		httpx.WriteError(w, http.StatusRequestEntityTooLarge, "Request body too large")
		return
	}
	if err := json.Unmarshal(body, &in.Body); err != nil {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid JSON")
		return
	}
	out, err := r.deploy(context.WithValue(req.Context(), reqKey{}, req), &in)
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out.Body)
}

type reqKey struct{}

func deployReq(ctx context.Context) *http.Request {
	r, _ := ctx.Value(reqKey{}).(*http.Request)
	if r == nil {
		r = &http.Request{Header: http.Header{}}
	}
	return r
}

func (r *Room) deployServerURL(req *http.Request, override string) (string, error) {
	return r.serverURL(req, override, localhostMsg, "Server URL is required for agent deployment.", r.d.DeployAllowLoopback)
}

// deploy serves POST /api/agents/deploy (spec 20 §12.3) with a native SSH
// client: the host key is verified against the server's known_hosts and
// pinned on first use only when asked; the agent gets its own key bound to
// the remote hostname; every value in the install script is shell-quoted.
func (r *Room) deploy(ctx context.Context, in *deployIn) (*deployOut, error) {
	b := in.Body
	host, user := strings.TrimSpace(b.Host), strings.TrimSpace(b.SSHUser)
	if host == "" || user == "" {
		return nil, httpx.Invalid("host and ssh_user are required")
	}
	if !deployHostRE.MatchString(host) || len(host) > 253 {
		return nil, httpx.Invalid("Invalid hostname")
	}
	if !deployUserRE.MatchString(user) || len(user) > 64 {
		return nil, httpx.Invalid("Invalid ssh_user")
	}
	port := wire.IntOf(b.SSHPort, 22)
	if port < 1 || port > 65535 {
		port = 22
	}
	if r.firstKey() == "" {
		return nil, httpx.Invalid("No agent keys configured. Set agentKeys in settings first.")
	}
	req := deployReq(ctx)
	server, err := r.deployServerURL(req, b.Server)
	if err != nil {
		return nil, err
	}
	if !r.hasArtefacts() {
		return nil, httpx.Unavailable("Agent file not found on server")
	}
	auth, err := r.sshAuth(b.SSHKey, b.SSHPass)
	if err != nil {
		return nil, err
	}
	p := authz.Must(ctx)
	ip := httpx.ClientIP(ctx)
	res := r.runDeploy(ctx, host, port, user, auth, server, b.TrustHostKey, strings.TrimSpace(b.HostKeyFingerprint))
	res["host"] = host
	okDeploy := res["status"] == "ok"
	if pf, ok := res["preflight_fail"].(string); ok {
		delete(res, "preflight_fail")
		r.audit(ctx, "agent_deploy", p.Username, fmt.Sprintf("host=%s preflight_fail=%s", host, pf), ip)
	} else {
		r.audit(ctx, "agent_deploy", p.Username, fmt.Sprintf("host=%s user=%s ok=%s", host, user, boolStr(okDeploy)), ip)
	}
	return &deployOut{Body: res}, nil
}

// knownHostsPath is the server's store of pinned SSH host keys.
func (r *Room) knownHostsPath() string { return filepath.Join(r.d.DataDir, "known_hosts") }

// hostKeyCallback verifies against known_hosts; an unknown key is pinned
// only when trust is set or its fingerprint matches fp.
func (r *Room) hostKeyCallback(trust bool, fp string, seen *string) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		*seen = ssh.FingerprintSHA256(key)
		path := r.knownHostsPath()
		if _, err := os.Stat(path); err == nil {
			cb, err := knownhosts.New(path)
			if err != nil {
				return fmt.Errorf("known_hosts unreadable: %w", err)
			}
			err = cb(hostname, remote, key)
			var ke *knownhosts.KeyError
			if err == nil {
				return nil
			}
			if !errors.As(err, &ke) || len(ke.Want) > 0 {
				return errHostKeyMismatch
			}
		}
		if !trust && (fp == "" || fp != *seen) {
			return errHostKeyUnknown
		}
		line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteString(line + "\n")
		return err
	}
}

var (
	errHostKeyMismatch = errors.New("host key mismatch")
	errHostKeyUnknown  = errors.New("host key unknown")
)

func (r *Room) runDeploy(ctx context.Context, host string, port int, user string, auth []ssh.AuthMethod, server string, trust bool, fp string) map[string]any {
	var seen string
	cfg := &ssh.ClientConfig{User: user, Auth: auth, HostKeyCallback: r.hostKeyCallback(trust, fp, &seen), Timeout: sshDialTimeout}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	client, err := ssh.Dial("tcp", addr, cfg)
	switch {
	case errors.Is(err, errHostKeyUnknown):
		return map[string]any{"status": "error", "step": "hostkey", "fingerprint": seen,
			"error": fmt.Sprintf("Unknown host key for %s (%s). Confirm it by sending host_key_fingerprint (or trust_host_key: true).", host, seen)}
	case errors.Is(err, errHostKeyMismatch):
		return map[string]any{"status": "error", "step": "hostkey", "fingerprint": seen,
			"error": fmt.Sprintf("Host key mismatch for %s (%s): refusing to connect (possible man-in-the-middle). Remove the old key from the server's known_hosts if the host was reinstalled.", host, seen)}
	case err != nil:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return map[string]any{"status": "error", "error": "SSH connection timed out"}
		}
		r.log.Warn("deploy: ssh", "host", host, "err", err)
		return map[string]any{"status": "error", "step": "connect", "error": "SSH connection failed: " + sshErrText(err)}
	}
	defer func() { _ = client.Close() }()

	uname, _, err := sshRun(ctx, client, "uname -sm; hostname", nil, 15*time.Second)
	if err != nil {
		return map[string]any{"status": "error", "step": "preflight", "error": "Could not identify the remote system"}
	}
	lines := strings.Split(strings.TrimSpace(uname), "\n")
	f := strings.Fields(lines[0])
	if len(f) < 2 || len(lines) < 2 {
		return map[string]any{"status": "error", "step": "preflight", "error": "Could not identify the remote system"}
	}
	remoteHost := strings.TrimSpace(lines[len(lines)-1])
	art, ok := r.artefactFor(goOS(f[0]), goArch(f[1]))
	if !ok {
		return map[string]any{"status": "error", "step": "copy", "error": fmt.Sprintf("Agent file not found on server for %s/%s", goOS(f[0]), goArch(f[1]))}
	}
	bin, err := os.Open(art.path)
	if err != nil {
		return map[string]any{"status": "error", "step": "copy", "error": "Agent file not found on server"}
	}
	tmp := "/tmp/noba-agent." + wire.NewID(8) + ".new"
	_, stderr, err := sshRun(ctx, client, "umask 077; cat > "+tmp+" && chmod 700 "+tmp, bin, 60*time.Second)
	bin.Close()
	if err != nil {
		return map[string]any{"status": "error", "step": "copy", "error": wire.Truncate(stderr+err.Error(), 500)}
	}
	key := r.deployKey(remoteHost)
	script := deployScript(server, key, art.checksum, r.d.DeployRoot, tmp)
	out, stderr, err := sshRun(ctx, client, "bash -s", strings.NewReader(script), 90*time.Second)
	if errors.Is(err, context.DeadlineExceeded) {
		return map[string]any{"status": "error", "error": "SSH connection timed out"}
	}
	if i := strings.Index(out, "PREFLIGHT_FAIL:"); i >= 0 {
		msg := strings.TrimSpace(strings.SplitN(out[i+len("PREFLIGHT_FAIL:"):], "\n", 2)[0])
		return map[string]any{"status": "error", "step": "preflight", "error": msg, "preflight_fail": msg}
	}
	res := map[string]any{"status": "error", "output": wire.Truncate(out, 1000), "error": wire.Truncate(stderr, 500)}
	if strings.Contains(out, "AGENT_STATUS: active") {
		res["status"] = "ok"
		probe := "curl -ksf --connect-timeout 5 " + shellQuote(server+"/api/health") + " >/dev/null 2>&1 || echo UNREACHABLE"
		pout, _, perr := sshRun(ctx, client, probe, nil, 15*time.Second)
		switch {
		case perr != nil:
			res["warning"] = "Could not verify connectivity from remote host."
		case strings.Contains(pout, "UNREACHABLE"):
			res["warning"] = "Agent installed but cannot reach " + server + " from the remote host. Check firewall rules, DNS resolution, and that the server URL is correct."
		}
	}
	return res
}

func sshErrText(err error) string {
	s := err.Error()
	if strings.Contains(s, "unable to authenticate") {
		return "authentication failed"
	}
	if strings.Contains(s, "connection refused") {
		return "connection refused"
	}
	return "could not connect"
}

// sshRun runs cmd in a new session with optional stdin, bounded by timeout.
func sshRun(ctx context.Context, c *ssh.Client, cmd string, stdin interface{ Read([]byte) (int, error) }, timeout time.Duration) (string, string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", "", err
	}
	defer s.Close()
	var so, se bytes.Buffer
	s.Stdout, s.Stderr = &so, &se
	if stdin != nil {
		s.Stdin = stdin
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err = <-done:
	case <-t.C:
		_ = s.Close()
		return so.String(), se.String(), context.DeadlineExceeded
	case <-ctx.Done():
		_ = s.Close()
		return so.String(), se.String(), ctx.Err()
	}
	return so.String(), se.String(), err
}

// deployKey returns the key the deployed agent uses: a new key bound to
// the remote hostname (added to agentKeys), or the first key when the
// hostname is not a valid agent hostname or the settings cannot be saved.
func (r *Room) deployKey(remoteHost string) string {
	if !wire.ValidHostname(remoteHost) || r.d.Settings == nil {
		return r.firstKey()
	}
	key := wire.NewID(24)
	cur := strings.TrimSpace(r.d.Settings.String("agentKeys"))
	entry := remoteHost + ":" + key
	if cur != "" {
		entry = cur + "," + entry
	}
	if _, err := r.d.Settings.Update(map[string]any{"agentKeys": entry}); err != nil {
		r.log.Warn("deploy: could not save the agent key", "err", err)
		return r.firstKey()
	}
	r.keys.mu.Lock()
	r.keys.at = time.Time{}
	r.keys.mu.Unlock()
	return key
}

// hasArtefacts reports whether the agent directory holds any build.
func (r *Room) hasArtefacts() bool {
	m, _ := filepath.Glob(filepath.Join(r.d.AgentDir, "noba-agent-*-*"))
	return len(m) > 0
}

// serverSigners loads the server user's own SSH keys (read once).
func (r *Room) serverSigners() []ssh.Signer {
	var out []ssh.Signer
	for _, p := range r.d.SSHKeyFiles {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if s, err := ssh.ParsePrivateKey(b); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// deployScript installs the copied binary: preflight, stop an existing
// agent, install, config (mode 600), service (systemd, else a background
// process), status. root prefixes every installed path (tests).
func deployScript(server, key, checksum, root, tmp string) string {
	verify := "true"
	if h := hostOfURL(server); net.ParseIP(h) != nil && strings.Count(h, ".") == 3 {
		verify = "false"
	}
	cfg := fmt.Sprintf("server: %s\napi_key: %s\ninterval: 30\nhostname: %%s\nverify_ssl: %s\n", yamlQuote(server), yamlQuote(key), verify)
	return `set -u
ROOT=` + shellQuote(root) + `
WANT=` + shellQuote(strings.TrimPrefix(checksum, "sha256:")) + `
NEW=` + shellQuote(tmp) + `
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else echo "PREFLIGHT_FAIL: sudo access required but not available (try deploying as root)"; exit 0; fi
fi
GOT="$(sha256sum "$NEW" 2>/dev/null | cut -d' ' -f1)"
if [ -n "$WANT" ] && [ "$GOT" != "$WANT" ]; then rm -f "$NEW"; echo "PREFLIGHT_FAIL: agent binary corrupted in transfer"; exit 0; fi
echo "PREFLIGHT_OK: $(uname -sm)"
BIN="$ROOT/opt/noba-agent/noba-agent"
CFG="$ROOT/etc/noba-agent.yaml"
if [ -z "$ROOT" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then SYSTEMD=1; else SYSTEMD=0; fi
if [ "$SYSTEMD" = 1 ] && systemctl is-active --quiet noba-agent 2>/dev/null; then echo "DEPLOY_INFO: stopping existing agent"; $SUDO systemctl stop noba-agent; fi
if [ "$SYSTEMD" = 0 ] && [ -f "$ROOT/run/noba-agent.pid" ]; then echo "DEPLOY_INFO: stopping existing agent"; kill "$(cat "$ROOT/run/noba-agent.pid")" 2>/dev/null || true; fi
$SUDO mkdir -p "$ROOT/opt/noba-agent" "$ROOT/etc" "$ROOT/run"
$SUDO install -m 0755 "$NEW" "$BIN"
rm -f "$NEW"
printf ` + shellQuote(cfg) + ` "$(hostname)" | $SUDO tee "$CFG" >/dev/null
$SUDO chmod 600 "$CFG"
if [ "$SYSTEMD" = 1 ]; then
  $SUDO tee /etc/systemd/system/noba-agent.service >/dev/null <<UNIT
[Unit]
Description=NOBA Agent
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=$BIN --config $CFG
Restart=always
RestartSec=30
StandardOutput=journal
StandardError=journal
SyslogIdentifier=noba-agent

[Install]
WantedBy=multi-user.target
UNIT
  $SUDO systemctl daemon-reload
  $SUDO systemctl enable --now noba-agent
  sleep 2
  if systemctl is-active --quiet noba-agent; then echo "AGENT_STATUS: active"; else echo "AGENT_STATUS: failed"; journalctl -u noba-agent -n 5 --no-pager 2>/dev/null; fi
else
  nohup $SUDO "$BIN" --config "$CFG" >"$ROOT/run/noba-agent.log" 2>&1 </dev/null &
  echo $! | $SUDO tee "$ROOT/run/noba-agent.pid" >/dev/null
  sleep 2
  if kill -0 "$(cat "$ROOT/run/noba-agent.pid")" 2>/dev/null; then echo "AGENT_STATUS: active"; else echo "AGENT_STATUS: failed"; tail -n 5 "$ROOT/run/noba-agent.log"; fi
fi
`
}

func hostOfURL(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	u, _, _ = strings.Cut(u, "/")
	if h, _, err := net.SplitHostPort(u); err == nil {
		return h
	}
	return u
}

// yamlQuote renders s as a double-quoted YAML scalar.
func yamlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "%", "%%").Replace(s) + `"`
}
