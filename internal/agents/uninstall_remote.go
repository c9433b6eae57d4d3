package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

// remoteUninstall serves POST /api/agents/{hostname}/remote-uninstall
// (spec 20 §12.4, an extra route): remove the agent from a host over SSH,
// then from the dashboard.
func (r *Room) remoteUninstall(w http.ResponseWriter, req *http.Request) {
	name := req.PathValue("hostname")
	if !wire.ValidHostname(name) {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid hostname")
		return
	}
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
	b := in.Body
	host, user := strings.TrimSpace(b.Host), strings.TrimSpace(b.SSHUser)
	switch {
	case host == "" || user == "":
		httpx.WriteError(w, http.StatusBadRequest, "host and ssh_user are required")
		return
	case !deployHostRE.MatchString(host) || len(host) > 253:
		httpx.WriteError(w, http.StatusBadRequest, "Invalid hostname")
		return
	case !deployUserRE.MatchString(user) || len(user) > 64:
		httpx.WriteError(w, http.StatusBadRequest, "Invalid ssh_user")
		return
	}
	port := wire.IntOf(b.SSHPort, 22)
	if port < 1 || port > 65535 {
		port = 22
	}
	auth, err := r.sshAuth(b.SSHKey, b.SSHPass)
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	ctx := req.Context()
	p := authz.Must(ctx)
	ip := httpx.ClientIP(ctx)
	var seen string
	cfg := &ssh.ClientConfig{User: user, Auth: auth, HostKeyCallback: r.hostKeyCallback(b.TrustHostKey, strings.TrimSpace(b.HostKeyFingerprint), &seen),
		Timeout: sshDialTimeout}
	client, err := ssh.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port)), cfg)
	if err != nil {
		res := map[string]any{"status": "error", "error": "Remote uninstall failed — check server logs"}
		var ne net.Error
		switch {
		case errors.Is(err, errHostKeyUnknown):
			res = map[string]any{"status": "error", "step": "hostkey", "fingerprint": seen,
				"error": fmt.Sprintf("Unknown host key for %s (%s). Confirm it by sending host_key_fingerprint (or trust_host_key: true).", host, seen)}
		case errors.Is(err, errHostKeyMismatch):
			res = map[string]any{"status": "error", "step": "hostkey", "fingerprint": seen,
				"error": fmt.Sprintf("Host key mismatch for %s (%s): refusing to connect.", host, seen)}
		case errors.As(err, &ne) && ne.Timeout():
			res["error"] = "SSH connection timed out"
		default:
			r.log.Warn("remote uninstall: ssh", "host", host, "err", err)
		}
		httpx.WriteJSON(w, http.StatusOK, res)
		return
	}
	defer func() { _ = client.Close() }()
	out, _, err := sshRun(ctx, client, "bash -s", strings.NewReader(uninstallScript(r.d.DeployRoot)), 30*time.Second)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "error", "error": "SSH connection timed out"})
	case strings.Contains(out, "UNINSTALL_OK:"):
		if c := r.hub.remove(name); c != nil {
			c.close(1000, "Agent removed")
		}
		if err := r.d.Store.DeleteAgent(ctx, name); err != nil {
			httpx.WriteErr(w, err)
			return
		}
		r.audit(ctx, "agent_remote_uninstall", p.Username, fmt.Sprintf("host=%s target=%s ok=True", name, host), ip)
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "ok", "output": "Agent fully removed from remote host and dashboard"})
	case strings.Contains(out, "UNINSTALL_FAIL:"):
		i := strings.Index(out, "UNINSTALL_FAIL:")
		msg := strings.TrimSpace(strings.SplitN(out[i+len("UNINSTALL_FAIL:"):], "\n", 2)[0])
		r.audit(ctx, "agent_remote_uninstall", p.Username, fmt.Sprintf("host=%s target=%s fail=%s", name, host, msg), ip)
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "error", "error": msg})
	default:
		r.audit(ctx, "agent_remote_uninstall", p.Username, fmt.Sprintf("host=%s target=%s unclear", name, host), ip)
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "error", "error": "Unexpected output: " + wire.Truncate(out, 300)})
	}
}

// sshAuth builds the SSH login methods of a deploy or uninstall request.
func (r *Room) sshAuth(key, pass string) ([]ssh.AuthMethod, error) {
	var auth []ssh.AuthMethod
	if k := strings.TrimSpace(key); k != "" {
		signer, err := ssh.ParsePrivateKey([]byte(k))
		if err != nil {
			return nil, httpx.Invalid("Invalid ssh_key: not an unencrypted private key")
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if pass != "" {
		auth = append(auth, ssh.Password(pass), ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			ans := make([]string, len(qs))
			for i := range ans {
				ans[i] = pass
			}
			return ans, nil
		}))
	}
	if len(auth) == 0 {
		if signers := r.serverSigners(); len(signers) > 0 {
			auth = append(auth, ssh.PublicKeys(signers...))
		}
	}
	if len(auth) == 0 {
		return nil, httpx.Invalid("Provide ssh_pass or ssh_key (the server has no SSH key of its own)")
	}
	return auth, nil
}

// uninstallScript removes the agent: service, unit, config, binary.
func uninstallScript(root string) string {
	return `set -u
ROOT=` + shellQuote(root) + `
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else echo "UNINSTALL_FAIL: sudo access required"; exit 0; fi
fi
if [ -z "$ROOT" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl stop noba-agent 2>/dev/null || true
  $SUDO systemctl disable noba-agent 2>/dev/null || true
  $SUDO rm -f /etc/systemd/system/noba-agent.service
  $SUDO systemctl daemon-reload 2>/dev/null || true
fi
if [ -f "$ROOT/run/noba-agent.pid" ]; then
  PID="$(cat "$ROOT/run/noba-agent.pid")"
  $SUDO kill "$PID" 2>/dev/null || true
  for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$PID" 2>/dev/null || break; sleep 0.3; done
  $SUDO rm -f "$ROOT/run/noba-agent.pid" "$ROOT/run/noba-agent.log"
fi
$SUDO rm -f "$ROOT/etc/noba-agent.yaml"
$SUDO rm -rf "$ROOT/opt/noba-agent"
rm -f /tmp/noba-agent.*.new /tmp/noba-agent.pyz 2>/dev/null || true
if [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; then echo "UNINSTALL_FAIL: agent still running after cleanup"; exit 0; fi
if [ -z "$ROOT" ] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet noba-agent 2>/dev/null; then echo "UNINSTALL_FAIL: agent still running after cleanup"; exit 0; fi
echo "UNINSTALL_OK: agent fully removed"
`
}
