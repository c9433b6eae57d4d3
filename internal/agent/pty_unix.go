//go:build !windows

package agent

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"

	"github.com/noba-go/noba/internal/wire"
)

// ptySession is one shell on a pseudo-terminal.
type ptySession struct {
	id   string
	cmd  *exec.Cmd
	f    *os.File
	once sync.Once
}

// restrictedUsers are the accounts an operator's terminal runs as; one of
// them must exist (there is no fallback to a weaker restricted shell).
var restrictedUsers = []string{"noba-agent", "noba"}

// openPTY starts the shell of a session: the agent user's shell for an
// admin, a dedicated unprivileged account for anyone else.
func openPTY(a *Agent, session, role string, cols, rows int) (*ptySession, error) {
	cols, rows = min(max(cols, 10), 500), min(max(rows, 5), 300)
	var cmd *exec.Cmd
	if role == "admin" {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/bash"
		}
		if _, err := os.Stat(sh); err != nil {
			sh = "/bin/sh"
		}
		cmd = exec.Command(sh)
	} else {
		var name string
		for _, u := range restrictedUsers {
			if _, err := user.Lookup(u); err == nil {
				name = u
				break
			}
		}
		if name == "" {
			return nil, wire.Message("Restricted shell unavailable: create a 'noba-agent' user on this host for operator terminals")
		}
		if os.Geteuid() != 0 {
			return nil, wire.Message("Restricted shell unavailable: the agent must run as root to switch user")
		}
		cmd = exec.Command("su", "-", name, "-s", "/bin/bash")
	}
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "COLUMNS="+strconv.Itoa(cols), "LINES="+strconv.Itoa(rows))
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		return nil, err
	}
	return &ptySession{id: session, cmd: cmd, f: f}, nil
}

// pump forwards output until the shell exits and returns its exit code.
func (p *ptySession) pump(a *Agent) int {
	buf := make([]byte, 4096)
	for {
		n, err := p.f.Read(buf)
		if n > 0 {
			data := strings.ToValidUTF8(string(buf[:n]), "\uFFFD")
			_ = a.sendWS(context.Background(), &wire.PtyOutput{Session: p.id, Data: data})
		}
		if err != nil {
			break
		}
	}
	err := p.cmd.Wait()
	p.f.Close()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return 0
}

func (p *ptySession) write(s string) { _, _ = p.f.Write([]byte(s)) }

func (p *ptySession) resize(cols, rows int) {
	_ = pty.Setsize(p.f, &pty.Winsize{Cols: uint16(min(max(cols, 10), 500)), Rows: uint16(min(max(rows, 5), 300))})
}

// terminate sends SIGTERM to the shell's group, then SIGKILL after 3 s.
func (p *ptySession) terminate() {
	p.once.Do(func() {
		if p.cmd.Process == nil {
			return
		}
		pid := p.cmd.Process.Pid
		_ = syscall.Kill(-pid, syscall.SIGHUP)
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		go func() {
			time.Sleep(3 * time.Second)
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = p.cmd.Process.Kill()
		}()
	})
}
