package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// podman runs the podman CLI against the throwaway engine of
// scripts/podman-up.sh (NOBA_PODMAN_DIR, exported by make test-go): the same
// configuration and storage as its service. Without it the test skips, and
// fails under CI=true.
func podmanEnv(t *testing.T) []string {
	t.Helper()
	dir := os.Getenv("NOBA_PODMAN_DIR")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("NOBA_PODMAN_DIR is not set: make test-go starts podman with scripts/podman-up.sh")
		}
		t.Skip("no podman engine (eval \"$(scripts/podman-up.sh)\" to run this test)")
	}
	need(t, "podman")
	return []string{"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf"), "XDG_RUNTIME_DIR=" + filepath.Join(dir, "run")}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitHealth polls GET /api/health until it answers 200.
func waitHealth(t *testing.T, url string, within time.Duration) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	c := &http.Client{Timeout: 3 * time.Second}
	var last string
	for ctx.Err() == nil {
		resp, err := c.Get(url + "/api/health")
		if err == nil {
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return body
			}
			last = fmt.Sprintf("status %d", resp.StatusCode)
		} else {
			last = err.Error()
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("%s/api/health did not answer 200 within %s (last: %s)", url, within, last)
	return nil
}

// TestImage builds the server image from the release build of this
// platform (deploy/Dockerfile.prebuilt: the Dockerfile's final stage, on
// scratch) with podman, starts it with a published port, waits for
// /api/health, checks it runs as the non-root user 65532, runs its
// HEALTHCHECK (noba healthcheck inside the container), stops it gracefully,
// then starts deploy/compose.yaml on the same image with docker-compose.
func TestImage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image is linux")
	}
	penv := podmanEnv(t)
	root := repoRoot(t)
	podman := func(args ...string) (string, error) {
		t.Helper()
		return run(t, root, penv, "podman", args...)
	}

	dist, _ := release(t, "linux/"+runtime.GOARCH, "noba")
	ctxDir := t.TempDir()
	if out, err := run(t, root, nil, "deploy/image/rootfs.sh", ctxDir, filepath.Join(dist, "noba-linux-"+runtime.GOARCH)); err != nil {
		t.Fatalf("rootfs.sh: %v\n%s", err, out)
	}
	tag := fmt.Sprintf("localhost/noba:test-%d", os.Getpid())
	if out, err := podman("build", "-q", "--format", "docker", "-f", "deploy/Dockerfile.prebuilt", "-t", tag, ctxDir); err != nil {
		t.Fatalf("podman build: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = podman("rmi", "-f", tag) })

	out, err := podman("image", "inspect", "--format", "{{.Size}}|{{.Config.User}}|{{json .Config.Healthcheck}}|{{json .Config.ExposedPorts}}|{{json .Config.Volumes}}", tag)
	if err != nil {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	f := strings.Split(strings.TrimSpace(out), "|")
	size, _ := strconv.ParseInt(f[0], 10, 64)
	t.Logf("image %s: %d bytes (%.1f MB)", tag, size, float64(size)/1e6)
	if f[1] != "65532:65532" || !strings.Contains(f[2], `"/usr/local/bin/noba","healthcheck"`) ||
		!strings.Contains(f[3], "8080/tcp") || !strings.Contains(f[4], `"/data"`) {
		t.Fatalf("image config: user %s, healthcheck %s, ports %s, volumes %s", f[1], f[2], f[3], f[4])
	}
	if size > 80<<20 {
		t.Errorf("image is %d bytes: a static binary on scratch should stay well under 80 MiB", size)
	}

	name := fmt.Sprintf("noba-image-test-%d", os.Getpid())
	port := freePort(t)
	if out, err := podman("run", "-d", "--name", name, "-p", fmt.Sprintf("127.0.0.1:%d:8080", port),
		"-e", "NOBA_ADMIN_PASSWORD=Image-test-1", tag); err != nil {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = podman("rm", "-f", "-v", "-t", "0", name) })
	logs := func() string { out, _ := podman("logs", name); return out }
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	health := waitHealth(t, url, 90*time.Second)
	if health["status"] != "ok" || health["version"] != "9.8.7-test" {
		t.Errorf("health %v, want status ok and the release version", health)
	}

	// Non-root: the server process, seen from the host, is uid/gid 65532.
	out, err = podman("inspect", "--format", "{{.State.Pid}}", name)
	if err != nil {
		t.Fatal(err, out)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%s/status", strings.TrimSpace(out)))
	if err != nil {
		t.Fatalf("server process: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "Gid:") {
			if ids := strings.Fields(line)[1:]; len(ids) != 4 || ids[0] != "65532" || ids[1] != "65532" || ids[2] != "65532" || ids[3] != "65532" {
				t.Errorf("server runs as %q, want 65532 (real, effective, saved, fs)", line)
			}
		}
	}
	// exec works on scratch (no shell needed): the binary is the release build.
	if out, err := podman("exec", name, "/usr/local/bin/noba", "version"); err != nil || !strings.Contains(out, "noba 9.8.7-test") {
		t.Errorf("noba version in the container: %v %s", err, out)
	}
	// The image's HEALTHCHECK runs noba healthcheck in the container.
	if out, err := podman("healthcheck", "run", name); err != nil {
		t.Fatalf("healthcheck run: %v\n%s\n%s", err, out, logs())
	}
	// A login works: the first admin came from the environment, state is writable.
	resp, err := http.Post(url+"/api/login", "application/json", strings.NewReader(`{"username":"admin","password":"Image-test-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("login: %d\n%s", resp.StatusCode, logs())
	}
	// SIGTERM: a graceful stop exits 0 well within podman's 10 s.
	if out, err := podman("stop", "-t", "15", name); err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	if out, _ := podman("inspect", "--format", "{{.State.ExitCode}}", name); strings.TrimSpace(out) != "0" {
		t.Errorf("exit code after SIGTERM: %s\n%s", out, logs())
	}

	// deploy/compose.yaml on this image, through the engine's Docker API.
	if os.Getenv("DOCKER_HOST") == "" {
		t.Log("DOCKER_HOST unset: compose.yaml not started")
		return
	}
	need(t, "docker-compose")
	project := fmt.Sprintf("nobacompose%d", os.Getpid())
	cport := freePort(t)
	cenv := []string{"NOBA_IMAGE=" + tag, fmt.Sprintf("NOBA_PORT=127.0.0.1:%d", cport), "NOBA_ADMIN_PASSWORD=Image-test-1"}
	compose := func(args ...string) (string, error) {
		return run(t, root, cenv, "docker-compose", append([]string{"-p", project, "-f", "deploy/compose.yaml"}, args...)...)
	}
	t.Cleanup(func() { _, _ = compose("down", "-v", "-t", "2") })
	if out, err := compose("up", "-d", "--no-build"); err != nil {
		t.Fatalf("docker-compose up: %v\n%s", err, out)
	}
	waitHealth(t, fmt.Sprintf("http://127.0.0.1:%d", cport), 90*time.Second)
}
