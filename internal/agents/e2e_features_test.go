package agents_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/server/servertest"
	"github.com/noba-go/noba/internal/wire"
)

// nobaTemp is a directory the agent's write allowlist admits (/tmp/noba-*).
func nobaTemp(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/tmp", "noba-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestLogStream(t *testing.T) {
	env := newEnv(t)
	startAgent(t, env.URL, "e2e-logs")
	waitWS(t, env, "e2e-logs")
	dir := nobaTemp(t)
	logf := filepath.Join(dir, "app.log")
	if err := os.WriteFile(logf, []byte("old-1\nold-2\nold-3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var start map[string]any
	if st := env.JSON(http.MethodPost, "/api/agents/e2e-logs/stream-logs", env.Token("operator"), map[string]any{"path": logf, "lines": 2}, &start); st != 200 || start["status"] != "queued" {
		t.Fatalf("start: %d %v", st, start)
	}
	id := start["stream_id"].(string)
	var streams struct {
		Streams []map[string]any `json:"streams"`
	}
	env.JSON(http.MethodGet, "/api/agents/e2e-logs/streams", env.Token("viewer"), nil, &streams)
	if len(streams.Streams) != 1 || streams.Streams[0]["stream_id"] != id {
		t.Fatalf("streams: %v", streams)
	}
	type pollT struct {
		Lines  []string `json:"lines"`
		Cursor int      `json:"cursor"`
		Active bool     `json:"active"`
	}
	poll := func(after int) pollT {
		var p pollT
		if st := env.JSON(http.MethodGet, fmt.Sprintf("/api/agents/e2e-logs/stream/%s?after=%d", id, after), env.Token("operator"), nil, &p); st != 200 {
			t.Fatalf("poll: %d", st)
		}
		return p
	}
	var p pollT
	waitFor(t, 20*time.Second, "initial lines", func() bool { p = poll(0); return len(p.Lines) >= 2 })
	if strings.Join(p.Lines, ",") != "old-2,old-3" || !p.Active {
		t.Fatalf("initial lines: %+v", p)
	}
	f, _ := os.OpenFile(logf, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintln(f, "new-1")
	fmt.Fprintln(f, "new-2")
	f.Close()
	cursor := p.Cursor
	waitFor(t, 20*time.Second, "appended lines", func() bool { p = poll(cursor); return len(p.Lines) >= 2 })
	if strings.Join(p.Lines, ",") != "new-1,new-2" || p.Cursor != cursor+2 {
		t.Fatalf("appended lines after cursor %d: %+v", cursor, p)
	}
	// Stop: the stream is unregistered, its buffer dropped, the agent told.
	var stop map[string]any
	if st := env.JSON(http.MethodDelete, "/api/agents/e2e-logs/stream-logs/"+id, env.Token("operator"), nil, &stop); st != 200 || stop["status"] != "queued" {
		t.Fatalf("stop: %d %v", st, stop)
	}
	res := waitResult(t, env, "e2e-logs", stop["id"].(string))
	if res["status"] != "ok" {
		t.Fatalf("stop_stream result: %v", res)
	}
	env.JSON(http.MethodGet, "/api/agents/e2e-logs/streams", env.Token("viewer"), nil, &streams)
	if len(streams.Streams) != 0 {
		t.Fatalf("streams after stop: %v", streams)
	}
	// A path the agent must not read is refused by the server already.
	if st, _ := env.Do(http.MethodPost, "/api/agents/e2e-logs/stream-logs", env.Token("operator"), map[string]any{"path": "/etc/shadow"}); st != 400 {
		t.Fatalf("stream of /etc/shadow: %d", st)
	}
}

func TestFilePushAndPull(t *testing.T) {
	env := newEnv(t)
	startAgent(t, env.URL, "e2e-files")
	waitWS(t, env, "e2e-files")
	dir := nobaTemp(t)

	// Push: server -> agent, verified by SHA-256 on the agent.
	content := strings.Repeat("pushed content line\n", 20000) // ~400 KB
	dest := filepath.Join(dir, "sub", "pushed.txt")
	resp := env.Request(http.MethodPost, "/api/agents/e2e-files/transfer?path="+dest, env.Token("admin"), []byte(content), nil)
	var push map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&push)
	resp.Body.Close()
	if resp.StatusCode != 200 || push["status"] != "queued" || !wire.ValidTransferID(push["transfer_id"].(string)) {
		t.Fatalf("push: %d %v", resp.StatusCode, push)
	}
	res := waitResult(t, env, "e2e-files", push["cmd_id"].(string))
	if res["status"] != "ok" {
		t.Fatalf("file_push result: %v", res)
	}
	if b, err := os.ReadFile(dest); err != nil || string(b) != content {
		t.Fatalf("pushed file: %v (%d bytes)", err, len(b))
	}
	// The operator may not push; a missing path is refused.
	if st, _ := env.Do(http.MethodPost, "/api/agents/e2e-files/transfer?path="+dest, env.Token("operator"), []byte("x")); st != 403 {
		t.Errorf("operator push: %d", st)
	}
	if st, _ := env.Do(http.MethodPost, "/api/agents/e2e-files/transfer", env.Token("admin"), []byte("x")); st != 400 {
		t.Errorf("push without path: %d", st)
	}
	// The agent refuses to write outside its allowlist.
	resp = env.Request(http.MethodPost, "/api/agents/e2e-files/transfer?path=/etc/noba-evil.conf", env.Token("admin"), []byte("x"), nil)
	_ = json.NewDecoder(resp.Body).Decode(&push)
	resp.Body.Close()
	res = waitResult(t, env, "e2e-files", push["cmd_id"].(string))
	if res["status"] != "error" || !strings.Contains(res["error"].(string), "Write denied") {
		t.Fatalf("push outside allowlist: %v", res)
	}
	if _, err := os.Stat("/etc/noba-evil.conf"); err == nil {
		t.Fatal("file written outside the allowlist")
	}

	// Pull: agent -> server in chunks with the checksum checked.
	src := filepath.Join(dir, "big.bin")
	data := make([]byte, 700*1024+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, out := sendCommand(t, env, "operator", "e2e-files", "file_transfer", map[string]any{"path": src})
	res = waitResult(t, env, "e2e-files", out["id"].(string))
	sum := sha256.Sum256(data)
	if res["status"] != "ok" || res["checksum"] != "sha256:"+hex.EncodeToString(sum[:]) || wire.IntOf(res["chunks"], 0) != 3 {
		t.Fatalf("file_transfer result: %v", res)
	}
	got, err := os.ReadFile(filepath.Join(env.Dir, "transfers", res["transfer_id"].(string)+"_big.bin"))
	if err != nil || string(got) != string(data) {
		t.Fatalf("uploaded file on the server: %v (%d bytes)", err, len(got))
	}

	// A chunked upload whose checksum does not match is rejected and not kept.
	id := wire.NewID(16)
	hdr := func(i, total int, sum string) map[string]string {
		return map[string]string{"X-Agent-Key": testKey, "X-Transfer-Id": id, "X-Chunk-Index": fmt.Sprint(i),
			"X-Total-Chunks": fmt.Sprint(total), "X-Filename": "x.txt", "X-File-Checksum": sum, "X-Agent-Hostname": "e2e-files"}
	}
	bad := "sha256:" + strings.Repeat("0", 64)
	r1 := env.Request(http.MethodPost, "/api/agent/file-upload", "", []byte("hello "), hdr(0, 2, bad))
	r1.Body.Close()
	r2 := env.Request(http.MethodPost, "/api/agent/file-upload", "", []byte("world"), hdr(1, 2, bad))
	var body map[string]any
	_ = json.NewDecoder(r2.Body).Decode(&body)
	r2.Body.Close()
	if r1.StatusCode != 200 || r2.StatusCode != 400 || !strings.HasPrefix(body["error"].(string), "Checksum mismatch: expected "+bad) {
		t.Fatalf("checksum mismatch: %d, %d %v", r1.StatusCode, r2.StatusCode, body)
	}
	if m, _ := filepath.Glob(filepath.Join(env.Dir, "transfers", id+"*")); len(m) != 0 {
		t.Fatalf("mismatched upload left files: %v", m)
	}
	// Transfer ids are validated (no path traversal) and indices bounded.
	for _, c := range []struct {
		h    map[string]string
		want int
	}{
		{map[string]string{"X-Agent-Key": testKey, "X-Transfer-Id": "../../etc/x", "X-Chunk-Index": "0", "X-Total-Chunks": "1"}, 400},
		{map[string]string{"X-Agent-Key": testKey, "X-Transfer-Id": id, "X-Chunk-Index": "5", "X-Total-Chunks": "2"}, 400},
		{map[string]string{"X-Agent-Key": testKey, "X-Transfer-Id": id, "X-Chunk-Index": "x", "X-Total-Chunks": "2"}, 400},
		{map[string]string{"X-Agent-Key": "nope", "X-Transfer-Id": id, "X-Chunk-Index": "0", "X-Total-Chunks": "1"}, 401},
	} {
		r := env.Request(http.MethodPost, "/api/agent/file-upload", "", []byte("x"), c.h)
		r.Body.Close()
		if r.StatusCode != c.want {
			t.Errorf("upload %v: %d, want %d", c.h, r.StatusCode, c.want)
		}
	}
	// A download transfer cannot be fetched for another host.
	r := env.Request(http.MethodGet, "/api/agent/file-download/"+push["transfer_id"].(string), "", nil,
		map[string]string{"X-Agent-Key": testKey, "X-Agent-Hostname": "intruder"})
	r.Body.Close()
	if r.StatusCode != 403 {
		t.Errorf("download by another host: %d", r.StatusCode)
	}
}

// termConn opens the browser terminal WebSocket as role.
func termConn(t *testing.T, env *servertest.Env, host, role string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var tok struct {
		Token string `json:"token"`
	}
	if st := env.JSON(http.MethodPost, "/api/ws-token", env.Token(role), nil, &tok); st != 200 || tok.Token == "" {
		t.Fatalf("ws-token: %d", st)
	}
	u := "ws" + strings.TrimPrefix(env.URL, "http") + "/api/agents/" + host + "/terminal?token=" + tok.Token
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {env.URL}}})
	if err != nil {
		t.Fatalf("terminal dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func readUntil(t *testing.T, c *websocket.Conn, d time.Duration, pred func(wire.Msg) bool) wire.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("terminal read: %v", err)
		}
		m, _ := wire.Decode(b)
		if pred(m) {
			return m
		}
	}
}

func TestTerminalSession(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no PTY on Windows")
	}
	env := newEnv(t)
	startAgent(t, env.URL, "e2e-term")
	waitWS(t, env, "e2e-term")
	ctx := context.Background()

	a := termConn(t, env, "e2e-term", "admin")
	b := termConn(t, env, "e2e-term", "admin")
	_ = a.Write(ctx, websocket.MessageText, []byte(`{"type":"pty_open","session":"term-e2e-a","cols":100,"rows":30}`))
	readUntil(t, a, 10*time.Second, func(m wire.Msg) bool { return m.Type() == "pty_opened" && m.Str("session") == "term-e2e-a" })
	_ = a.Write(ctx, websocket.MessageText, []byte(`{"type":"pty_input","session":"term-e2e-a","data":"echo hello-$((6*7))\r"}`))
	var seen strings.Builder
	readUntil(t, a, 10*time.Second, func(m wire.Msg) bool {
		if m.Type() == "pty_output" {
			seen.WriteString(m.Str("data"))
		}
		return strings.Contains(seen.String(), "hello-42")
	})
	// Another viewer cannot type into or take over that session ...
	_ = b.Write(ctx, websocket.MessageText, []byte(`{"type":"pty_input","session":"term-e2e-a","data":"echo intruder\r"}`))
	m := readUntil(t, b, 10*time.Second, func(m wire.Msg) bool { return true })
	if m.Type() != "pty_error" || m.Str("error") != "Unknown session" {
		t.Fatalf("input to a foreign session: %v", m)
	}
	_ = b.Write(ctx, websocket.MessageText, []byte(`{"type":"pty_open","session":"term-e2e-a"}`))
	m = readUntil(t, b, 10*time.Second, func(m wire.Msg) bool { return true })
	if m.Type() != "pty_error" || m.Str("error") != "Session already exists" {
		t.Fatalf("open of a foreign session: %v", m)
	}
	// ... and sees none of its output: b's next message is its own ack.
	_ = a.Write(ctx, websocket.MessageText, []byte(`{"type":"pty_input","session":"term-e2e-a","data":"echo second-$((1+1))\r"}`))
	seen.Reset()
	readUntil(t, a, 10*time.Second, func(m wire.Msg) bool {
		seen.WriteString(m.Str("data"))
		return strings.Contains(seen.String(), "second-2")
	})
	_ = b.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`))
	for i := 0; i < 2; i++ {
		m = readUntil(t, b, 10*time.Second, func(m wire.Msg) bool { return true })
		if m.Type() != "ack" && !(m.Type() == "result" && m.Str("cmd") == "ping") {
			t.Fatalf("viewer b received %v, want only its own ack and result", m)
		}
	}
	// Commands typed in the terminal get the command route's checks.
	op := termConn(t, env, "e2e-term", "operator")
	_ = op.Write(ctx, websocket.MessageText, []byte(`{"type":"exec","command":"id"}`))
	m = readUntil(t, op, 10*time.Second, func(m wire.Msg) bool { return true })
	if m.Type() != "error" || m.Str("error") != "Insufficient permissions for exec" {
		t.Fatalf("operator exec in terminal: %v", m)
	}
	// Operators get no admin shell: only a dedicated restricted account.
	_ = op.Write(ctx, websocket.MessageText, []byte(`{"type":"pty_open","session":"term-e2e-op"}`))
	m = readUntil(t, op, 10*time.Second, func(m wire.Msg) bool { return m.Str("session") == "term-e2e-op" })
	if m.Type() != "pty_error" && m.Type() != "pty_opened" {
		t.Fatalf("operator pty_open: %v", m)
	}
	// Closing: pty_exit comes back to the owner.
	_ = a.Write(ctx, websocket.MessageText, []byte(`{"type":"pty_close","session":"term-e2e-a"}`))
	readUntil(t, a, 10*time.Second, func(m wire.Msg) bool { return m.Type() == "pty_exit" })

	// Without an Origin header the handshake is refused (CSWSH).
	var tok struct {
		Token string `json:"token"`
	}
	env.JSON(http.MethodPost, "/api/ws-token", env.Token("admin"), nil, &tok)
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(env.URL, "http")+"/api/agents/e2e-term/terminal?token="+tok.Token, nil)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("terminal without Origin: %v %v", err, resp)
	}
}

func TestSelfUpdate(t *testing.T) {
	env := newEnv(t)
	// The server holds a newer build of the agent for this platform.
	dir := filepath.Join(env.Dir, "agent")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	newBin := filepath.Join(dir, fmt.Sprintf("noba-agent-%s-%s", runtime.GOOS, runtime.GOARCH))
	out, err := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X github.com/noba-go/noba/internal/wire.AgentVersion=9.9.9",
		"-o", newBin, "github.com/noba-go/noba/cmd/noba-agent").CombinedOutput()
	if err != nil {
		t.Fatalf("build new agent: %v\n%s", err, out)
	}
	// The update endpoint serves it with version and checksum.
	resp := env.Request(http.MethodGet, "/api/agent/update?os="+runtime.GOOS+"&arch="+runtime.GOARCH, "", nil, map[string]string{"X-Agent-Key": testKey})
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Agent-Version") != "9.9.9" || !strings.HasPrefix(resp.Header.Get("X-File-Checksum"), "sha256:") {
		t.Fatalf("update: %d %v", resp.StatusCode, resp.Header)
	}
	resp = env.Request(http.MethodGet, "/api/agent/update?os=plan9&arch=amd64", "", nil, map[string]string{"X-Agent-Key": testKey})
	var e map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 404 || e["error"] != "Agent file not found" {
		t.Fatalf("update for a missing platform: %d %v", resp.StatusCode, e)
	}
	// A running 3.x agent is offered the newer build on its report,
	// verifies it, replaces itself and comes back as 9.9.9.
	p := startAgent(t, env.URL, "e2e-update")
	waitFor(t, 60*time.Second, "agent reporting 9.9.9", func() bool {
		v := agentView(t, env, "e2e-update")
		return v != nil && v["agent_version"] == "9.9.9" && v["online"] == true
	})
	b, _ := os.ReadFile(p.bin)
	nb, _ := os.ReadFile(newBin)
	if string(b) != string(nb) {
		t.Fatal("the agent binary on disk was not replaced by the new build")
	}
	var res []map[string]any
	env.JSON(http.MethodGet, "/api/agents/e2e-update/results", env.Token("viewer"), nil, &res)
	found := false
	for _, r := range res {
		if r["cmd"] == "update_agent" && r["status"] == "ok" && r["version"] == "9.9.9" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no successful update_agent result: %v", res)
	}
}

func TestUninstall(t *testing.T) {
	env := newEnv(t)
	p := startAgent(t, env.URL, "e2e-uninstall")
	if err := os.WriteFile(filepath.Join(p.dir, "agent.yaml"), []byte("interval: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitWS(t, env, "e2e-uninstall")
	var out map[string]any
	if st := env.JSON(http.MethodPost, "/api/agents/e2e-uninstall/uninstall", env.Token("operator"), nil, &out); st != 403 {
		t.Fatalf("operator uninstall: %d", st)
	}
	if st := env.JSON(http.MethodPost, "/api/agents/e2e-uninstall/uninstall", env.Token("admin"), nil, &out); st != 200 || out["status"] != "queued" {
		t.Fatalf("uninstall: %d %v", st, out)
	}
	res := waitResult(t, env, "e2e-uninstall", out["id"].(string))
	if res["status"] != "ok" {
		t.Fatalf("uninstall result: %v", res)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("agent still running after uninstall")
	}
	for _, f := range []string{p.bin, filepath.Join(p.dir, "agent.yaml")} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s still exists after uninstall", f)
		}
	}
	// The record stays (offline later) until deleted.
	if st := env.JSON(http.MethodDelete, "/api/agents/e2e-uninstall", env.Token("admin"), nil, &out); st != 200 {
		t.Fatalf("delete: %d", st)
	}
	if v := agentView(t, env, "e2e-uninstall"); v != nil {
		t.Fatalf("agent still listed after delete: %v", v)
	}
}

func TestFilePushChecksumMismatchOnAgent(t *testing.T) {
	env := newEnv(t)
	dir := nobaTemp(t)
	dest := filepath.Join(dir, "victim.txt")
	if err := os.WriteFile(dest, []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Queue a push for an agent that is not connected yet ...
	resp := env.Request(http.MethodPost, "/api/agents/e2e-late/transfer?path="+dest, env.Token("admin"), []byte("the real content"), nil)
	var push map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&push)
	resp.Body.Close()
	if resp.StatusCode != 200 || push["websocket"] != false {
		t.Fatalf("push: %d %v", resp.StatusCode, push)
	}
	// ... then tamper with the stored file: the agent must refuse it.
	files, _ := filepath.Glob(filepath.Join(env.Dir, "transfers", push["transfer_id"].(string)+"_*"))
	if len(files) != 1 {
		t.Fatalf("stored transfer files: %v", files)
	}
	if err := os.WriteFile(files[0], []byte("tampered content"), 0o600); err != nil {
		t.Fatal(err)
	}
	startAgent(t, env.URL, "e2e-late")
	res := waitResult(t, env, "e2e-late", push["cmd_id"].(string))
	if res["status"] != "error" || !strings.HasPrefix(res["error"].(string), "Checksum mismatch: ") {
		t.Fatalf("tampered push: %v", res)
	}
	if b, _ := os.ReadFile(dest); string(b) != "original" {
		t.Fatalf("destination changed to %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".victim.txt.push*")); len(m) != 0 {
		t.Fatalf("staging file left behind: %v", m)
	}
}
