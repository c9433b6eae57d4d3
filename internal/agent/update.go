package agent

import (
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/wire"
)

// selfPath is the agent's own executable, symlinks resolved.
func selfPath() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(p)
}

// hUpdateAgent downloads the server's agent build for this platform,
// verifies its SHA-256 against X-File-Checksum and that it is a Go
// executable, replaces the running binary atomically and restarts.
func hUpdateAgent(ctx context.Context, c *call) map[string]any {
	a := c.agent
	self, err := selfPath()
	if err != nil {
		return fail("Cannot locate own executable: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	u := fmt.Sprintf("%s%s?os=%s&arch=%s", a.cfg.Server, wire.PathUpdate, runtime.GOOS, runtime.GOARCH)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail("%v", err)
	}
	req.Header.Set(wire.HeaderAgentKey, a.cfg.Key)
	req.Header.Set(wire.HeaderAgentHostname, a.cfg.Hostname)
	res, err := a.http.Do(req)
	if err != nil {
		return fail("Download failed: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fail("Download failed: HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(b)))
	}
	want := res.Header.Get(wire.HeaderFileChecksum)
	if !strings.HasPrefix(want, "sha256:") {
		return fail("Update refused: the server sent no checksum")
	}
	newPath := self + ".new"
	f, err := os.OpenFile(newPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fail("Cannot write update: %v", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), io.LimitReader(res.Body, 200<<20))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(newPath)
		return fail("Download failed: %v", err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != want {
		_ = os.Remove(newPath)
		return fail("Checksum mismatch: %s != %s", want, got)
	}
	if _, err := buildinfo.ReadFile(newPath); err != nil {
		_ = os.Remove(newPath)
		return fail("Invalid agent code: not a Go executable for this platform")
	}
	if err := os.Chmod(newPath, 0o755); err != nil {
		_ = os.Remove(newPath)
		return fail("%v", err)
	}
	if err := replaceFile(newPath, self); err != nil {
		_ = os.Remove(newPath)
		return fail("Cannot replace the agent binary: %v", err)
	}
	ver := res.Header.Get(wire.HeaderAgentVersion)
	c.then = func() {
		a.waitDelivered(c.id, 10*time.Second)
		a.restart()
	}
	return ok(map[string]any{"message": "Agent updated, restarting...", "version": ver, "previous_version": wire.AgentVersion})
}

// waitDelivered waits until the result of id left the pending list (it went
// out with a report) or timeout passed.
func (a *Agent) waitDelivered(id string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		a.mu.Lock()
		pending := false
		for _, r := range a.results {
			if r.Str("id") == id {
				pending = true
				break
			}
		}
		a.mu.Unlock()
		if !pending {
			return
		}
		a.kickReport()
		time.Sleep(100 * time.Millisecond)
	}
}

// underSystemd reports whether the agent runs as a systemd service.
func (a *Agent) underSystemd() bool {
	return os.Getenv("INVOCATION_ID") != "" && a.have("systemctl")
}

// hUninstall removes the agent (spec 20 §12.4): unit, binary and config
// first, then reports, then stops itself through a detached process.
func hUninstall(ctx context.Context, c *call, in *wire.UninstallParams) map[string]any {
	a := c.agent
	if !in.Confirm {
		return fail("Parameter 'confirm' must be true to uninstall the agent")
	}
	steps := []string{}
	systemd := runtime.GOOS == "linux" && a.have("systemctl")
	unit := "/etc/systemd/system/noba-agent.service"
	if systemd {
		if _, err := os.Stat(unit); err == nil {
			r := a.run(ctx, 30*time.Second, a.sudo("systemctl", "disable", "noba-agent")...)
			steps = append(steps, "disable service: "+statusOf(r))
			if err := os.Remove(unit); err != nil {
				r = a.run(ctx, 15*time.Second, a.sudo("rm", "-f", unit)...)
				steps = append(steps, "remove unit (sudo): "+statusOf(r))
			} else {
				steps = append(steps, "remove unit: ok")
			}
			r = a.run(ctx, 30*time.Second, a.sudo("systemctl", "daemon-reload")...)
			steps = append(steps, "daemon-reload: "+statusOf(r))
		}
	}
	if self, err := selfPath(); err == nil {
		if err := os.Remove(self); err != nil {
			steps = append(steps, "remove binary: "+err.Error())
		} else {
			steps = append(steps, "remove binary: ok")
		}
	}
	if a.cfg.ConfigPath != "" {
		if err := os.Remove(a.cfg.ConfigPath); err == nil {
			steps = append(steps, "remove config: ok")
		} else if !os.IsNotExist(err) {
			steps = append(steps, "remove config: "+err.Error())
		}
	}
	c.then = func() {
		a.waitDelivered(c.id, 10*time.Second)
		if systemd && a.underSystemd() && a.have("systemd-run") {
			_ = exec.Command("systemd-run", "--on-active=5", "systemctl", "stop", "noba-agent").Run()
			return
		}
		a.log.Info("agent uninstalled; exiting")
		os.Exit(0)
	}
	return ok(map[string]any{"steps": steps})
}

// restartSelf restarts the agent after an update.
func restartSelf(a *Agent, log *slog.Logger) {
	if a.underSystemd() {
		cmd := exec.Command("systemctl", "restart", "noba-agent")
		if err := cmd.Start(); err == nil {
			return
		}
	}
	self, err := selfPath()
	if err != nil {
		log.Error("restart", "err", err)
		return
	}
	log.Info("restarting after update")
	execSelf(self, log)
}
