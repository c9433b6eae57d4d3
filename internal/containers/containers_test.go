package containers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

const image = "local/busybox:test"

// loop is a compose command that ends at once on SIGTERM.
const loop = `["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]`

func newEnv(t *testing.T, host string) *servertest.Env {
	t.Helper()
	return servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithDockerHost(host)}})
}

// runContainer creates and starts a busybox container running cmd, removed at cleanup.
func runContainer(t *testing.T, cl *client.Client, name string, env []string, cmd ...string) {
	t.Helper()
	ctx := context.Background()
	_, _ = cl.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true})
	_, err := cl.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name,
		Config: &container.Config{Image: image, Cmd: cmd, Env: env}})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = cl.ContainerRemove(context.Background(), name, client.ContainerRemoveOptions{Force: true})
	})
	if _, err := cl.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
}

func state(t *testing.T, cl *client.Client, name string) string {
	t.Helper()
	res, err := cl.ContainerInspect(context.Background(), name, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatalf("inspect %s: %v", name, err)
	}
	return string(res.Container.State.Status)
}

func engineClient(t *testing.T, host string) *client.Client {
	t.Helper()
	cl, err := client.New(client.WithHost(host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func TestContainerControlInspectLogsStats(t *testing.T) {
	host := needEngine(t)
	cl := engineClient(t, host)
	name := fmt.Sprintf("noba-ct-%d", time.Now().UnixNano()%1e6)
	runContainer(t, cl, name, []string{"SECRET_TOKEN=hunter2", "MODE=test"},
		"/bin/sh", "-c", "for i in 1 2 3 4 5; do echo line-$i; done; printf '\\033[31mred\\033[0m\\n'; trap 'exit 0' TERM; while :; do sleep 1; done")
	e := newEnv(t, host)
	op, viewer, admin := e.Token("operator"), e.Token("viewer"), e.Token("admin")

	// Inspect: the reference shape, env values masked.
	var ins map[string]any
	if st := e.JSON(http.MethodGet, "/api/containers/"+name+"/inspect", op, nil, &ins); st != 200 {
		t.Fatalf("inspect: %d", st)
	}
	if ins["name"] != name || ins["status"] != "running" || !strings.Contains(fmt.Sprint(ins["image"]), "busybox") || ins["runtime"] != "podman" {
		t.Errorf("inspect = %v", ins)
	}
	envs := fmt.Sprint(ins["env"])
	if strings.Contains(envs, "hunter2") || !strings.Contains(envs, "SECRET_TOKEN=***") {
		t.Errorf("env not masked: %s", envs)
	}
	for _, k := range []string{"created", "started_at", "restart_count", "ports", "mounts", "networks", "health", "memory_limit", "cpu_shares", "restart_policy"} {
		if _, ok := ins[k]; !ok {
			t.Errorf("inspect lacks %q", k)
		}
	}

	// Logs: tail N, ANSI stripped, text/plain.
	deadline := time.Now().Add(10 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		st, b := e.Do(http.MethodGet, "/api/containers/"+name+"/logs?lines=3", op, nil)
		if st != 200 {
			t.Fatalf("logs: %d %s", st, b)
		}
		if body = string(b); strings.Contains(body, "red") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.Contains(body, "line-1") || !strings.Contains(body, "line-5") || strings.Contains(body, "\x1b") {
		t.Errorf("logs?lines=3 = %q", body)
	}
	if st, _ := e.Do(http.MethodGet, "/api/containers/"+name+"/logs?lines=abc", op, nil); st != 400 {
		t.Errorf("lines=abc: %d, want 400", st)
	}

	// Stats: the running container with docker-stats strings.
	var stats []map[string]string
	if st := e.JSON(http.MethodGet, "/api/containers/stats", viewer, nil, &stats); st != 200 {
		t.Fatalf("stats: %d", st)
	}
	found := false
	for _, s := range stats {
		if s["name"] == name {
			found = true
			if !strings.HasSuffix(s["cpu"], "%") || !strings.Contains(s["mem_usage"], " / ") || s["pids"] == "" {
				t.Errorf("stats row = %v", s)
			}
		}
	}
	if !found {
		t.Errorf("stats lack %s: %v", name, stats)
	}

	// Control: stop, start, restart against the engine.
	for _, c := range []struct{ action, want string }{{"stop", "exited"}, {"start", "running"}, {"restart", "running"}} {
		var out map[string]any
		st := e.JSON(http.MethodPost, "/api/container-control", op, map[string]string{"name": " " + name + " ", "action": c.action}, &out)
		if st != 200 || out["success"] != true || out["runtime"] != "podman" {
			t.Fatalf("%s: %d %v", c.action, st, out)
		}
		if got := state(t, cl, name); got != c.want {
			t.Errorf("after %s: state %s, want %s", c.action, got, c.want)
		}
	}
	// Viewers may not control; a missing container is 404.
	if st, _ := e.Do(http.MethodPost, "/api/container-control", viewer, map[string]string{"name": name, "action": "stop"}); st != 403 {
		t.Errorf("viewer control: %d, want 403", st)
	}
	if st, b := e.Do(http.MethodPost, "/api/container-control", op, map[string]string{"name": "noba-missing-xyz", "action": "start"}); st != 404 || !strings.Contains(string(b), "Container not found") {
		t.Errorf("missing container: %d %s", st, b)
	}
	if st, _ := e.Do(http.MethodGet, "/api/containers/noba-missing-xyz/inspect", op, nil); st != 404 {
		t.Errorf("inspect missing: %d", st)
	}
	// Pull: a run of the job runner (spec: {"success","run_id","image"});
	// the image is local only and the network is loopback, so the registry
	// cannot be reached: the run fails with the engine's reason, the
	// container untouched.
	var pull struct {
		Success bool   `json:"success"`
		RunID   int64  `json:"run_id"`
		Image   string `json:"image"`
	}
	if st := e.JSON(http.MethodPost, "/api/containers/"+name+"/pull", admin, nil, &pull); st != 200 || !pull.Success || pull.RunID == 0 || !strings.HasSuffix(pull.Image, image) {
		t.Fatalf("pull: %d %+v", st, pull)
	}
	var run map[string]any
	deadline = time.Now().Add(60 * time.Second)
	for run["status"] == nil || run["status"] == "running" || run["status"] == "queued" {
		if time.Now().After(deadline) {
			t.Fatalf("pull run stuck: %v", run)
		}
		time.Sleep(100 * time.Millisecond)
		e.JSON(http.MethodGet, fmt.Sprintf("/api/runs/%d", pull.RunID), viewer, nil, &run)
	}
	if run["status"] != "failed" || run["trigger"] != "image-pull:"+pull.Image || run["triggered_by"] != "admin" || run["error"] == nil || run["error"] == "" {
		t.Errorf("pull run: %v", run)
	}
	if got := state(t, cl, name); got != "running" {
		t.Errorf("after pull: %s", got)
	}
	if st, _ := e.Do(http.MethodPost, "/api/containers/"+name+"/pull", op, nil); st != 403 {
		t.Errorf("operator pull: %d, want 403", st)
	}
	// The audit trail names the actions.
	var audit []map[string]any
	e.JSON(http.MethodGet, "/api/audit?limit=50", admin, nil, &audit)
	if a := fmt.Sprint(audit); !strings.Contains(a, "stop "+name+" via podman") || !strings.Contains(a, "container_pull") {
		t.Errorf("audit lacks container actions: %s", a)
	}
}

func TestHostileContainerNames(t *testing.T) {
	e := newEnv(t, "unix:///nonexistent/docker.sock")
	op := e.Token("operator")
	for _, name := range []string{"a;rm -rf /", "$(id)", "x\ny", "..", "-rf", "a b", "`id`", "a|b", ""} {
		st, b := e.Do(http.MethodPost, "/api/container-control", op, map[string]string{"name": name, "action": "stop"})
		if st != 400 || !strings.Contains(string(b), "Invalid container name") {
			t.Errorf("control %q: %d %s", name, st, b)
		}
		if name == "" || name == ".." {
			continue
		}
		st, _ = e.Do(http.MethodGet, "/api/containers/"+url.PathEscape(name)+"/logs", op, nil)
		if st != 400 {
			t.Errorf("logs %q: %d, want 400", name, st)
		}
	}
	if st, b := e.Do(http.MethodPost, "/api/container-control", op, map[string]string{"name": "web", "action": "kill"}); st != 400 || !strings.Contains(string(b), "Invalid action") {
		t.Errorf("bad action: %d %s", st, b)
	}
	for _, p := range []string{"a;b", "$(id)", "a%0Ab", "a..b", "a%20b"} {
		if st, _ := e.Do(http.MethodPost, "/api/compose/"+p+"/up", op, nil); st != 400 {
			t.Errorf("compose project %q: %d, want 400", p, st)
		}
	}
	if st, b := e.Do(http.MethodPost, "/api/compose/app/rm", op, nil); st != 400 || !strings.Contains(string(b), "Invalid action") {
		t.Errorf("compose bad action: %d %s", st, b)
	}
}

func TestNoEngineFallback(t *testing.T) {
	e := newEnv(t, "unix:///nonexistent/docker.sock")
	op, viewer := e.Token("operator"), e.Token("viewer")
	for _, p := range []string{"/api/containers/stats", "/api/compose/projects"} {
		st, b := e.Do(http.MethodGet, p, viewer, nil)
		if st != 200 || strings.TrimSpace(string(b)) != "[]" {
			t.Errorf("%s: %d %s, want 200 []", p, st, b)
		}
	}
	st, b := e.Do(http.MethodPost, "/api/container-control", op, map[string]string{"name": "web", "action": "stop"})
	if st != 404 || !strings.Contains(string(b), "No container runtime found") {
		t.Errorf("control without engine: %d %s", st, b)
	}
	if st, _ := e.Do(http.MethodGet, "/api/containers/web/logs", op, nil); st != 404 {
		t.Errorf("logs without engine: %d", st)
	}
}

func TestComposeProjectLifecycle(t *testing.T) {
	host := needEngine(t)
	if _, err := exec.LookPath("docker-compose"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("docker-compose is not installed")
		}
		t.Skip("SKIP: docker-compose is not installed")
	}
	cl := engineClient(t, host)
	dir := t.TempDir()
	file := filepath.Join(dir, "docker-compose.yml")
	if err := os.WriteFile(file, []byte("version: \"3\"\nservices:\n  web:\n    image: "+image+"\n    command: "+loop+"\n  worker:\n    image: "+image+"\n    command: "+loop+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	project := fmt.Sprintf("nobat%d", time.Now().UnixNano()%1e6)
	t.Cleanup(func() {
		cmd := exec.Command("docker-compose", "-p", project, "-f", file, "down", "-t", "0")
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+host)
		_ = cmd.Run()
	})
	e := newEnv(t, host)
	// docker-compose up on a loaded 2-core machine can take longer than the default 30 s client timeout.
	e.Client.Timeout = 3 * time.Minute
	if _, err := e.Server.Settings.Update(map[string]any{"composeProjects": []any{map[string]any{"name": project, "path": file}}}); err != nil {
		t.Fatal(err)
	}
	op, viewer := e.Token("operator"), e.Token("viewer")
	find := func() map[string]any {
		var ps []map[string]any
		if st := e.JSON(http.MethodGet, "/api/compose/projects", viewer, nil, &ps); st != 200 {
			t.Fatalf("projects: %d", st)
		}
		for _, p := range ps {
			if p["Name"] == project {
				return p
			}
		}
		return nil
	}
	if p := find(); p == nil || p["Status"] != "down" {
		t.Fatalf("configured project before up: %v", p)
	}
	action := func(a string) {
		t.Helper()
		var out map[string]any
		if st := e.JSON(http.MethodPost, "/api/compose/"+project+"/"+a, op, nil, &out); st != 200 || out["success"] != true {
			t.Fatalf("compose %s: %d %v", a, st, out)
		}
	}
	action("up")
	p := find()
	if p == nil || p["Status"] != "running(2)" || fmt.Sprint(p["Services"]) != "[web worker]" || p["ConfigFiles"] != file {
		t.Fatalf("after up: %v", p)
	}
	web := project + "_web_1"
	if got := state(t, cl, web); got != "running" {
		t.Errorf("%s: %s", web, got)
	}
	// A container stopped outside shows in the project status; restart brings it back.
	if _, err := cl.ContainerStop(context.Background(), web, client.ContainerStopOptions{}); err != nil {
		t.Fatal(err)
	}
	if p := find(); p["Status"] != "exited(1), running(1)" {
		t.Errorf("after stopping web: %v", p["Status"])
	}
	action("restart")
	if got := state(t, cl, web); got != "running" {
		t.Errorf("after restart: %s", got)
	}
	if st, _ := e.Do(http.MethodPost, "/api/compose/"+project+"/down", viewer, nil); st != 403 {
		t.Errorf("viewer compose: %d", st)
	}
	action("down")
	if p := find(); p == nil || p["Status"] != "down" {
		t.Errorf("after down: %v", p)
	}
	if _, err := cl.ContainerInspect(context.Background(), web, client.ContainerInspectOptions{}); err == nil {
		t.Errorf("%s still exists after down", web)
	}
	if st, _ := e.Do(http.MethodPost, "/api/compose/nosuchproject/up", op, nil); st != 404 {
		t.Errorf("unknown project: %d", st)
	}
}

func TestTrueNASVM(t *testing.T) {
	var calls atomic.Int32
	var lastPath, lastAuth string
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		lastPath, lastAuth = r.URL.Path, r.Header.Get("Authorization")
		if strings.Contains(r.URL.Path, "/id/99/") {
			http.Error(w, `{"message":"VM does not exist"}`, http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(true)
	}))
	defer fake.Close()
	e := newEnv(t, "unix:///nonexistent/docker.sock")
	op, viewer := e.Token("operator"), e.Token("viewer")
	if st, b := e.Do(http.MethodPost, "/api/truenas/vm", op, map[string]any{"id": 3, "action": "start"}); st != 400 || !strings.Contains(string(b), "TrueNAS API not configured") {
		t.Errorf("unconfigured: %d %s", st, b)
	}
	if _, err := e.Server.Settings.Update(map[string]any{"truenasUrl": fake.URL, "truenasKey": "tn-key-1"}); err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if st := e.JSON(http.MethodPost, "/api/truenas/vm", op, map[string]any{"id": 3, "action": "restart", "name": "vm3"}, &out); st != 200 || out["success"] != true {
		t.Fatalf("vm restart: %d %v", st, out)
	}
	if lastPath != "/api/v2.0/vm/id/3/restart" || lastAuth != "Bearer tn-key-1" {
		t.Errorf("upstream call %s %s", lastPath, lastAuth)
	}
	if st, b := e.Do(http.MethodPost, "/api/truenas/vm", op, map[string]any{"id": 99, "action": "stop"}); st != 502 || !strings.Contains(string(b), "VM action failed") {
		t.Errorf("upstream 404: %d %s", st, b)
	}
	n := calls.Load()
	for _, c := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"id": "abc", "action": "start"}, "Invalid VM ID"},
		{map[string]any{"id": 1.5, "action": "start"}, "Invalid VM ID"},
		{map[string]any{"id": -1, "action": "start"}, "Invalid request"},
		{map[string]any{"id": 1, "action": "delete"}, "Invalid request"},
	} {
		if st, b := e.Do(http.MethodPost, "/api/truenas/vm", op, c.body); st != 400 || !strings.Contains(string(b), c.msg) {
			t.Errorf("%v: %d %s, want 400 %s", c.body, st, b, c.msg)
		}
	}
	if calls.Load() != n {
		t.Errorf("invalid requests reached TrueNAS")
	}
	if st, _ := e.Do(http.MethodPost, "/api/truenas/vm", viewer, map[string]any{"id": 1, "action": "start"}); st != 403 {
		t.Errorf("viewer: %d", st)
	}
}
