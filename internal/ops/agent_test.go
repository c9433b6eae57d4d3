package ops_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/noba-go/noba/internal/runcmd"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// agentBin is the real noba-agent, built once; podmanEnv points its podman
// CLI at the test engine scripts/podman-up.sh started (empty without one).
var (
	agentBin  string
	podmanEnv []string
)

const agentKey = "ops-test-agent-key-0123456789"

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "noba-ops-agent")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	agentBin = filepath.Join(dir, "noba-agent")
	if out, err := exec.Command("go", "build", "-o", agentBin, "github.com/noba-go/noba/cmd/noba-agent").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build noba-agent: %v\n%s", err, out)
		return 1
	}
	_, file, _, _ := runtime.Caller(0)
	scripts := filepath.Join(filepath.Dir(file), "..", "..", "scripts")
	if d := os.Getenv("NOBA_PODMAN_DIR"); d != "" && os.Getenv("DOCKER_HOST") != "" {
		// make test-go started the engine for every package.
		podmanEnv = []string{"CONTAINERS_CONF=" + d + "/containers.conf", "CONTAINERS_STORAGE_CONF=" + d + "/storage.conf", "XDG_RUNTIME_DIR=" + d + "/run"}
	} else if out, err := exec.Command(filepath.Join(scripts, "podman-up.sh")).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if v, ok := strings.CutPrefix(f, "NOBA_PODMAN_DIR="); ok {
				podmanEnv = []string{"CONTAINERS_CONF=" + v + "/containers.conf", "CONTAINERS_STORAGE_CONF=" + v + "/storage.conf",
					"XDG_RUNTIME_DIR=" + v + "/run"}
				defer func() { _ = exec.Command(filepath.Join(scripts, "podman-down.sh"), v).Run() }()
			}
		}
	} else {
		fmt.Fprintf(os.Stderr, "ops tests: podman-up.sh failed (%v): exports will have no containers\n", err)
	}
	return m.Run()
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startAgent(t *testing.T, url, host string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(agentBin, "--server", url, "--key", agentKey, "--hostname", host, "--interval", "1",
		"--config", filepath.Join(dir, "agent.yaml"), "--data-dir", filepath.Join(dir, "data"))
	out := &syncBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(append(os.Environ(), "NOBA_SERVER=", "NOBA_AGENT_KEY="), podmanEnv...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		if t.Failed() {
			t.Logf("agent output:\n%s", out.String())
		}
	})
}

func podman(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("podman", args...)
	cmd.Env = append(os.Environ(), podmanEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("podman %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestExportsAndBackupVerifyWithRealAgent(t *testing.T) {
	ctr := ""
	if podmanEnv != nil {
		ctr = fmt.Sprintf("noba-exp-%d", time.Now().UnixNano()%1e6)
		podman(t, "run", "-d", "--name", ctr, "-p", "127.0.0.1:18931:80", "local/busybox:test")
		t.Cleanup(func() {
			cmd := exec.Command("podman", "rm", "-f", "-t", "0", ctr)
			cmd.Env = append(os.Environ(), podmanEnv...)
			_ = cmd.Run()
		})
	} else if os.Getenv("CI") == "true" {
		t.Fatal("CI needs podman for the export test")
	}
	e := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithInfraRunner(runcmd.NewRecorded(nil)),
		server.WithDockerHost("unix:///nonexistent/docker.sock")}})
	if _, err := e.Server.Settings.Update(map[string]any{"agentKeys": agentKey}); err != nil {
		t.Fatal(err)
	}
	startAgent(t, e.URL, "exp-host")
	op, viewer := e.Token("operator"), e.Token("viewer")
	deadline := time.Now().Add(30 * time.Second)
	for {
		var agents []map[string]any
		e.JSON(http.MethodGet, "/api/agents", op, nil, &agents)
		if len(agents) == 1 && agents[0]["online"] == true && agents[0]["websocket"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent not online: %v", agents)
		}
		time.Sleep(200 * time.Millisecond)
	}
	dir := t.TempDir()
	get := func(path string) (string, http.Header) {
		t.Helper()
		resp := e.Request(http.MethodGet, path, op, nil, nil)
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b.String())
		}
		return b.String(), resp.Header
	}

	// docker-compose.yml, after asking the agent (discover=true).
	// On a loaded machine the agent's podman ps may fail once (the warning
	// says so): ask again a few times.
	var compose string
	for i := 0; i < 4; i++ {
		var h http.Header
		compose, h = get("/api/export/docker-compose?hostname=exp-host&discover=true")
		w := h.Get("X-Noba-Discovery-Warning")
		if w == "" && (ctr == "" || strings.Contains(compose, ctr)) {
			break
		}
		t.Logf("attempt %d: warning %q", i+1, w)
		time.Sleep(time.Second)
	}
	if !strings.Contains(compose, "# Host: exp-host") {
		t.Errorf("compose header: %s", compose)
	}
	if ctr != "" && (!strings.Contains(compose, "container_name: "+ctr) || !strings.Contains(compose, "18931:80/tcp")) {
		t.Errorf("compose lacks the container: %s", compose)
	}
	cf := filepath.Join(dir, "docker-compose.yml")
	if err := os.WriteFile(cf, []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		if out, err := exec.Command("docker-compose", "-f", cf, "config", "-q").CombinedOutput(); err != nil {
			t.Errorf("docker-compose config: %v\n%s\n%s", err, out, compose)
		}
	}
	// Ansible playbook: YAML with one play for the host.
	playbook, _ := get("/api/export/ansible?discover=1")
	var plays []map[string]any
	if err := yaml.Unmarshal([]byte(playbook), &plays); err != nil {
		t.Fatalf("playbook YAML: %v\n%s", err, playbook)
	}
	if len(plays) != 1 || plays[0]["hosts"] != "exp-host" || plays[0]["become"] != true || len(plays[0]["tasks"].([]any)) == 0 {
		t.Errorf("plays = %v", plays)
	}
	if ctr != "" && !strings.Contains(playbook, "community.docker.docker_container") {
		t.Errorf("playbook lacks the container: %s", playbook)
	}
	// Shell script: bash -n parses it.
	script, h := get("/api/export/shell?hostname=exp-host")
	if !strings.HasPrefix(h.Get("Content-Type"), "text/x-shellscript") || !strings.HasPrefix(script, "#!/bin/bash\n") || !strings.Contains(script, "set -euo pipefail") {
		t.Errorf("script: %s", script)
	}
	sf := filepath.Join(dir, "setup.sh")
	if err := os.WriteFile(sf, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-n", sf).CombinedOutput(); err != nil {
		t.Errorf("bash -n: %v\n%s\n%s", err, out, script)
	}
	if ctr != "" && !strings.Contains(script, "--name '"+ctr+"'") {
		t.Errorf("script lacks the container: %s", script)
	}
	// Unknown host: the documented placeholders; a missing hostname is 400.
	if body, _ := get("/api/export/docker-compose?hostname=ghost"); !strings.Contains(body, "# No online agent found for hostname: ghost") {
		t.Errorf("ghost compose: %s", body)
	}
	if body, _ := get("/api/export/shell?hostname=ghost"); !strings.Contains(body, "exit 1") {
		t.Errorf("ghost shell: %s", body)
	}
	if st, b := e.Do(http.MethodGet, "/api/export/shell", op, nil); st != 400 || !strings.Contains(string(b), "hostname parameter is required") {
		t.Errorf("no hostname: %d %s", st, b)
	}
	if st, _ := e.Do(http.MethodGet, "/api/export/ansible", viewer, nil); st != 403 {
		t.Errorf("viewer export: %d", st)
	}

	// Backup verification: the agent hashes the file, the result is stored.
	backup := filepath.Join(dir, "backup.tar")
	content := []byte("backup contents\n")
	if err := os.WriteFile(backup, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	var v map[string]any
	if st := e.JSON(http.MethodPost, "/api/backup/verify", op, map[string]any{"hostname": "exp-host", "path": backup}, &v); st != 200 || v["status"] != "sent" || v["verification_type"] != "checksum" {
		t.Fatalf("verify: %d %v", st, v)
	}
	deadline = time.Now().Add(15 * time.Second)
	var rows []map[string]any
	for time.Now().Before(deadline) {
		e.JSON(http.MethodGet, "/api/backup/verifications?hostname=exp-host", viewer, nil, &rows)
		if len(rows) == 1 && rows[0]["status"] != "pending" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(rows) != 1 || rows[0]["status"] != "ok" || rows[0]["backup_path"] != backup || fmt.Sprint(rows[0]["details"].(map[string]any)["sha256"]) != hex.EncodeToString(sum[:]) {
		t.Errorf("verifications = %v", rows)
	}
	if st, _ := e.Do(http.MethodPost, "/api/backup/verify", viewer, map[string]any{"hostname": "exp-host", "path": backup}); st != 403 {
		t.Errorf("viewer verify: %d", st)
	}
}
