package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/wire"
)

// splitArgs splits a command line like a POSIX shell would into argv
// (quotes and backslashes; no expansion, pipes or redirection).
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			inArg = true
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inArg = true
		case ch == '"':
			i++
			closed := false
			for ; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.ContainsRune(`"\$`+"`", rune(s[i+1])) {
					i++
					cur.WriteByte(s[i])
					continue
				}
				if s[i] == '"' {
					closed = true
					break
				}
				cur.WriteByte(s[i])
			}
			if !closed {
				return nil, errors.New("unterminated quote")
			}
			inArg = true
		case ch == ' ' || ch == '\t' || ch == '\n':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(ch)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}

// hExec runs a command (argv, no shell; PowerShell on Windows). Over the
// WebSocket it streams merged output line by line before the result.
func hExec(ctx context.Context, c *call, in *wire.ExecParams) map[string]any {
	command := in.Command
	timeout := min(intOr(in.Timeout, 30), 60)
	var argv []string
	if runtime.GOOS == "windows" {
		argv = []string{"powershell", "-NoProfile", "-NonInteractive", "-Command", command}
	} else {
		var err error
		argv, err = splitArgs(command)
		if err != nil || len(argv) == 0 {
			return fail("Invalid command syntax")
		}
	}
	if timeout <= 0 {
		return map[string]any{"status": "error", "error": "Timeout after 0s", "exit_code": -1, "stdout": "", "stderr": ""}
	}
	return runExec(ctx, c, argv, time.Duration(timeout)*time.Second)
}

// runExec runs argv; streaming when the command came over the WebSocket.
func runExec(ctx context.Context, c *call, argv []string, timeout time.Duration) map[string]any {
	a := c.agent
	if !c.ws {
		r := a.run(ctx, timeout, argv...)
		res := map[string]any{"status": statusOf(r), "exit_code": r.code, "stdout": r.stdout, "stderr": r.stderr}
		if r.err != nil {
			res["error"] = r.err.Error()
		}
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	setProcGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	out := &capBuffer{limit: wire.OutputCap, onFull: cancel}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			_, _ = out.Write([]byte(line + "\n"))
			_ = c.agent.sendWS(context.WithoutCancel(ctx), &wire.StreamLine{ID: c.id, Line: strings.TrimRight(line, " \t\r")})
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	if err := cmd.Start(); err != nil {
		pw.Close()
		wg.Wait()
		return map[string]any{"status": "error", "error": err.Error(), "exit_code": -1, "stdout": "", "stderr": ""}
	}
	err := cmd.Wait()
	pw.Close()
	wg.Wait()
	res := map[string]any{"stdout": out.String(), "stderr": "", "exit_code": 0, "status": "ok"}
	var ee *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded && !out.overflow:
		res["status"], res["exit_code"], res["error"] = "error", -1, fmt.Sprintf("Timeout after %ds", int(timeout.Seconds()))
	case errors.As(err, &ee):
		res["exit_code"] = ee.ExitCode()
		if ee.ExitCode() != 0 {
			res["status"] = "error"
		}
	case err != nil && !out.overflow:
		res["status"], res["exit_code"], res["error"] = "error", -1, err.Error()
	}
	if out.overflow {
		res["truncated"] = true
	}
	return res
}
