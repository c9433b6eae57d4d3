package infra

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/creack/pty"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// terminalLimit is the session hard limit (terminalTimeout setting, default 1800 s).
func (r *Room) terminalLimit() time.Duration {
	if f, ok := r.settings()["terminalTimeout"].(float64); ok && f >= 10 {
		return time.Duration(f) * time.Second
	}
	return 1800 * time.Second
}

// terminal serves WS /api/terminal: an admin's shell on the server's PTY.
// Server -> browser: binary frames of PTY output; browser -> server: input
// bytes, or {"type":"resize","cols":N,"rows":M}.
func (r *Room) terminal(w http.ResponseWriter, req *http.Request) {
	if !truthy(r.settings()["terminalEnabled"]) {
		httpx.WriteError(w, http.StatusForbidden, "Terminal disabled: enable it in Settings (terminalEnabled)")
		return
	}
	if !httpx.OriginAllowed(req, r.d.CORSOrigins) {
		httpx.WriteError(w, http.StatusForbidden, "Origin not allowed")
		return
	}
	p := authz.Must(req.Context())
	c, err := websocket.Accept(w, req, &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	c.SetReadLimit(1 << 16)
	ctx, cancel := context.WithTimeout(context.Background(), r.terminalLimit())
	defer cancel()
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/bash"
	}
	if _, err := exec.LookPath(shell); err != nil {
		shell = "/bin/sh"
	}
	cmd := exec.Command(shell, "-l")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "COLUMNS=120", "LINES=30")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 120, Rows: 30})
	if err != nil {
		_ = c.Close(websocket.StatusInternalError, "Could not start a shell")
		return
	}
	start := time.Now()
	ip := httpx.ClientIP(req.Context())
	audit := func(action, details string) {
		if r.d.Audit != nil {
			r.d.Audit.Record(context.Background(), action, p.Username, details, ip)
		}
	}
	audit("terminal_session_start", fmt.Sprintf("PTY session opened (role=%s)", p.Role))
	var once sync.Once
	end := func() {
		once.Do(func() {
			cancel()
			if cmd.Process != nil {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
				done := make(chan struct{})
				go func() { _ = cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(3 * time.Second):
					_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					<-done
				}
			}
			_ = f.Close()
		})
	}
	defer func() {
		end()
		_ = c.Close(websocket.StatusNormalClosure, "session ended")
		audit("terminal_session_end", fmt.Sprintf("PTY session closed (duration=%ds)", int(time.Since(start).Seconds())))
	}()
	// PTY -> browser.
	go func() {
		defer cancel()
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				wctx, wc := context.WithTimeout(ctx, 10*time.Second)
				werr := c.Write(wctx, websocket.MessageBinary, buf[:n])
				wc()
				if werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	// Browser -> PTY, with the idle limit.
	for {
		rctx, rc := context.WithTimeout(ctx, r.d.TerminalIdle)
		_, data, err := c.Read(rctx)
		rc()
		if err != nil {
			return
		}
		if len(data) > 0 && data[0] == '{' {
			var m struct {
				Type string `json:"type"`
				Cols int    `json:"cols"`
				Rows int    `json:"rows"`
			}
			if json.Unmarshal(data, &m) == nil && m.Type == "resize" {
				_ = pty.Setsize(f, &pty.Winsize{Cols: uint16(min(max(m.Cols, 10), 500)), Rows: uint16(min(max(m.Rows, 5), 300))})
				continue
			}
		}
		if _, err := f.Write(data); err != nil {
			return
		}
	}
}
