package agent

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/wire"
)

const streamBuffer = 500

// logStream is one running follow_logs.
type logStream struct {
	lines  []string
	cancel context.CancelFunc
	done   bool
}

// streamSet holds the agent's log streams (stream id = command id).
type streamSet struct {
	mu sync.Mutex
	m  map[string]*logStream
}

func newStreamSet() *streamSet { return &streamSet{m: map[string]*logStream{}} }

func (s *streamSet) add(id string, line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[id]
	if st == nil {
		return
	}
	st.lines = append(st.lines, line)
	if len(st.lines) > streamBuffer {
		st.lines = st.lines[len(st.lines)-streamBuffer:]
	}
}

// active reports whether any stream is still running.
func (s *streamSet) active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.m {
		if !st.done {
			return true
		}
	}
	return false
}

// drainInto moves buffered lines to the agent's pending report data and
// forgets finished, drained streams.
func (s *streamSet) drainInto(a *Agent) {
	s.mu.Lock()
	got := map[string][]string{}
	for id, st := range s.m {
		if len(st.lines) > 0 {
			got[id] = st.lines
			st.lines = nil
		}
		if st.done {
			delete(s.m, id)
		}
	}
	s.mu.Unlock()
	if len(got) == 0 {
		return
	}
	a.mu.Lock()
	for id, l := range got {
		a.streamLines[id] = append(a.streamLines[id], l...)
	}
	a.mu.Unlock()
}

func (s *streamSet) stop(id string) bool {
	s.mu.Lock()
	st := s.m[id]
	delete(s.m, id)
	s.mu.Unlock()
	if st == nil {
		return false
	}
	st.cancel()
	return true
}

func (s *streamSet) stopAll() {
	s.mu.Lock()
	ids := make([]string, 0, len(s.m))
	for id := range s.m {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.stop(id)
	}
}

// hFollowLogs starts a log stream: journalctl -f (optionally one unit and
// priority) or, with "path", the tail of a readable file.
func hFollowLogs(_ context.Context, c *call, in *wire.FollowLogsParams) map[string]any {
	a := c.agent
	lines := min(max(intOr(in.Lines, 50), 1), 500)
	ctx, cancel := context.WithCancel(context.Background())
	st := &logStream{cancel: cancel}
	a.streams.mu.Lock()
	if _, dup := a.streams.m[c.id]; dup {
		a.streams.mu.Unlock()
		cancel()
		return fail("Stream already running")
	}
	a.streams.m[c.id] = st
	a.streams.mu.Unlock()
	finish := func() {
		a.streams.mu.Lock()
		st.done = true
		a.streams.mu.Unlock()
	}
	if p := in.Path; p != "" {
		rp, err := readable(p)
		if err != nil {
			a.streams.stop(c.id)
			return fail("%v", err)
		}
		if _, err := os.Stat(rp); err != nil {
			a.streams.stop(c.id)
			return fail("Path not found: %s", p)
		}
		go func() {
			defer finish()
			followFile(ctx, rp, lines, func(l string) { a.streams.add(c.id, l) })
		}()
		a.kickReport()
		return ok(map[string]any{"stream_id": c.id, "message": "Log stream started"})
	}
	if !a.have("journalctl") {
		a.streams.stop(c.id)
		return fail("journalctl not available")
	}
	argv := []string{"journalctl", "-f", "--no-pager", "-n", strconv.Itoa(lines)}
	if u := in.Unit; u != "" {
		argv = append(argv, "-u", u)
	}
	if p := in.Priority; p != "" {
		argv = append(argv, "-p", p)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	setProcGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		a.streams.stop(c.id)
		return fail("%v", err)
	}
	go func() {
		_ = cmd.Wait()
		pw.Close()
	}()
	go func() {
		defer finish()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			a.streams.add(c.id, sc.Text())
		}
	}()
	a.kickReport()
	return ok(map[string]any{"stream_id": c.id, "message": "Log stream started"})
}

// followFile emits the last n lines of path, then every line appended,
// until ctx ends.
func followFile(ctx context.Context, path string, n int, emit func(string)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, 4<<20))
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(data) == 0 {
		all = nil
	}
	for _, l := range all[max(0, len(all)-n):] {
		emit(l)
	}
	var partial []byte
	buf := make([]byte, 64<<10)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			k, err := f.Read(buf)
			if k > 0 {
				partial = append(partial, buf[:k]...)
				for {
					i := bytes.IndexByte(partial, '\n')
					if i < 0 {
						break
					}
					emit(string(partial[:i]))
					partial = partial[i+1:]
				}
			}
			if err != nil || k == 0 {
				break
			}
		}
	}
}

func hStopStream(_ context.Context, c *call, in *wire.StreamParams) map[string]any {
	id := in.StreamID
	if !c.agent.streams.stop(id) {
		return fail("Stream not found or already stopped")
	}
	return ok(map[string]any{"stream_id": id, "message": "Stream stopped"})
}

func hGetStream(_ context.Context, c *call, in *wire.StreamParams) map[string]any {
	id := in.StreamID
	s := c.agent.streams
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[id]
	if st == nil {
		return fail("Stream not found or already stopped")
	}
	lines := st.lines
	st.lines = nil
	if lines == nil {
		lines = []string{}
	}
	return ok(map[string]any{"stream_id": id, "lines": lines, "active": !st.done})
}

var _ = wire.OutputCap
