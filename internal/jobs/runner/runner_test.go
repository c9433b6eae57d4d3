package runner_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/jobs/runner"
)

func newRunner(t *testing.T, cfg runner.Config) *runner.Runner {
	t.Helper()
	d, err := db.Open(filepath.Join(t.TempDir(), "noba.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if err := db.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r := runner.New(runner.NewStore(d), cfg)
	t.Cleanup(r.Shutdown)
	return r
}

func waitRun(t *testing.T, r *runner.Runner, id int64) runner.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := r.Wait(ctx, id); err != nil {
		t.Fatalf("wait %d: %v", id, err)
	}
	run, err := r.Store().Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func sh(script string) *runner.Command { return &runner.Command{Argv: []string{"sh", "-c", script}} }

func TestDoneAndFailed(t *testing.T) {
	r := newRunner(t, runner.Config{})
	ctx := context.Background()
	id, err := r.Submit(ctx, runner.Spec{Trigger: "test", Command: sh("echo hello; echo err >&2")})
	if err != nil {
		t.Fatal(err)
	}
	run := waitRun(t, r, id)
	if run.Status != runner.StatusDone || run.Output == nil || *run.Output != "hello\nerr\n" || *run.ExitCode != 0 {
		t.Fatalf("run = %+v output %q", run, deref(run.Output))
	}
	id, _ = r.Submit(ctx, runner.Spec{Trigger: "test", Command: sh("exit 3")})
	run = waitRun(t, r, id)
	if run.Status != runner.StatusFailed || run.Error == nil || *run.Error != "Exit code 3" || run.Output != nil {
		t.Fatalf("run = %+v", run)
	}
	id, _ = r.Submit(ctx, runner.Spec{Trigger: "test"})
	run = waitRun(t, r, id)
	if run.Status != runner.StatusFailed || *run.Error != "Command could not be constructed" {
		t.Fatalf("run = %+v", run)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// The cap is atomic: past it Submit fails with the reference message, and
// a slot frees when a job ends; Wait specs queue instead.
func TestConcurrencyCap(t *testing.T) {
	r := newRunner(t, runner.Config{Max: 2})
	ctx := context.Background()
	block := make(chan struct{})
	f := func(ctx context.Context, _ io.Writer) (int, error) {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return 0, nil
	}
	a, _ := r.Submit(ctx, runner.Spec{Func: f})
	b, _ := r.Submit(ctx, runner.Spec{Func: f})
	_, err := r.Submit(ctx, runner.Spec{Func: f})
	if !errors.Is(err, runner.ErrBusy) || err.Error() != "Max concurrent jobs (2) reached" {
		t.Fatalf("third submit: %v", err)
	}
	queued := make(chan int64, 1)
	go func() {
		id, err := r.Submit(ctx, runner.Spec{Func: f, Wait: true})
		if err != nil {
			t.Error(err)
		}
		queued <- id
	}()
	select {
	case <-queued:
		t.Fatal("waiting submit did not wait")
	case <-time.After(200 * time.Millisecond):
	}
	close(block)
	waitRun(t, r, a)
	waitRun(t, r, b)
	if run := waitRun(t, r, <-queued); run.Status != runner.StatusDone {
		t.Fatalf("queued run %+v", run)
	}
}

// A timed-out job's whole process group is gone: the shell and the
// background children it started.
func TestTimeoutKillsProcessGroup(t *testing.T) {
	r := newRunner(t, runner.Config{Grace: 500 * time.Millisecond})
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	script := fmt.Sprintf(`trap '' TERM; sleep 300 & echo $! >> %[1]s; (trap '' TERM; sleep 300) & echo $! >> %[1]s; echo $$ >> %[1]s; echo started; wait`, pids)
	id, err := r.Submit(context.Background(), runner.Spec{Trigger: "t", Command: sh(script), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	run := waitRun(t, r, id)
	if run.Status != runner.StatusTimeout || run.Error == nil || *run.Error != "Timed out after 1s" {
		t.Fatalf("run = %+v", run)
	}
	if !strings.Contains(deref(run.Output), "started\n") || !strings.Contains(deref(run.Output), "[ERROR] Job timed out after 1s") {
		t.Fatalf("output %q", deref(run.Output))
	}
	b, err := os.ReadFile(pids)
	if err != nil {
		t.Fatal(err)
	}
	list := strings.Fields(string(b))
	if len(list) != 3 {
		t.Fatalf("pids %q", list)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range list {
		pid, _ := strconv.Atoi(p)
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d of the timed-out job is still alive", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func TestCancel(t *testing.T) {
	r := newRunner(t, runner.Config{Grace: 500 * time.Millisecond})
	id, _ := r.Submit(context.Background(), runner.Spec{Command: sh("echo before; sleep 300")})
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := r.LiveOutput(id)
		if out == "before\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no output: %q", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !r.Cancel(id) {
		t.Fatal("cancel: not active")
	}
	run := waitRun(t, r, id)
	if run.Status != runner.StatusCancelled || deref(run.Output) != "before\n" {
		t.Fatalf("run = %+v %q", run, deref(run.Output))
	}
	if r.Cancel(id) {
		t.Fatal("cancel of a finished run succeeded")
	}
	// A cancelled Func finishes as cancelled without its result.
	fid, _ := r.Submit(context.Background(), runner.Spec{Func: func(ctx context.Context, out io.Writer) (int, error) {
		<-ctx.Done()
		_, _ = io.WriteString(out, "late\n")
		return 0, nil
	}})
	r.Cancel(fid)
	if run := waitRun(t, r, fid); run.Status != runner.StatusCancelled {
		t.Fatalf("func run %+v", run)
	}
}

func TestOutputCapAndCarriageReturns(t *testing.T) {
	r := newRunner(t, runner.Config{OutputCap: 64})
	id, _ := r.Submit(context.Background(), runner.Spec{Command: sh(`printf '10%%\r50%%\r100%%\r\n'; i=0; while [ $i -lt 100 ]; do echo line$i; i=$((i+1)); done`)})
	run := waitRun(t, r, id)
	out := deref(run.Output)
	if !strings.HasPrefix(out, "100%\nline0\n") || !strings.HasSuffix(out, "\n[output truncated]\n") || len(out) != 64+len("\n[output truncated]\n") {
		t.Fatalf("output %q (%d)", out, len(out))
	}
	if run.Status != runner.StatusDone {
		t.Fatalf("status %s", run.Status)
	}
}

func TestRecoverAndPrune(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	r := newRunner(t, runner.Config{Now: func() time.Time { return now }})
	ctx := context.Background()
	id, err := r.Store().Insert(ctx, "", "script:x", runner.StatusRunning, "u", now.Add(-40*24*time.Hour).Unix())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	run, _ := r.Store().Get(ctx, id)
	if run.Status != runner.StatusFailed || deref(run.Error) != "Server restarted" || run.FinishedAt == nil {
		t.Fatalf("recovered run %+v", run)
	}
	now = now.Add(31 * 24 * time.Hour)
	n, err := r.Prune(ctx, 30)
	if err != nil || n != 1 {
		t.Fatalf("prune = %d, %v", n, err)
	}
}
