package containers_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// dockerHost is the Podman (Docker API) engine the tests run against:
// DOCKER_HOST when it answers, else one started with scripts/podman-up.sh
// for this package. Empty when none is available.
var dockerHost string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dockerHost = os.Getenv("DOCKER_HOST")
	if dockerHost != "" && !ping(dockerHost) {
		fmt.Fprintf(os.Stderr, "containers tests: DOCKER_HOST=%s does not answer\n", dockerHost)
		dockerHost = ""
	}
	if dockerHost == "" {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		out, err := exec.Command(filepath.Join(root, "scripts", "podman-up.sh")).Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "containers tests: podman-up.sh failed: %v\n", err)
		} else {
			var dir string
			for _, f := range strings.Fields(string(out)) {
				if v, ok := strings.CutPrefix(f, "DOCKER_HOST="); ok {
					dockerHost = v
				}
				if v, ok := strings.CutPrefix(f, "NOBA_PODMAN_DIR="); ok {
					dir = v
				}
			}
			if dir != "" {
				defer func() { _ = exec.Command(filepath.Join(root, "scripts", "podman-down.sh"), dir).Run() }()
			}
			if !ping(dockerHost) {
				dockerHost = ""
			}
		}
	}
	return m.Run()
}

func ping(host string) bool {
	cl, err := client.New(client.WithHost(host))
	if err != nil {
		return false
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = cl.Ping(ctx, client.PingOptions{})
	return err == nil
}

// needEngine skips (loudly) without a container engine, and fails under CI.
func needEngine(t *testing.T) string {
	t.Helper()
	if dockerHost == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no container engine: CI needs podman (scripts/podman-up.sh)")
		}
		t.Skip("SKIP: no container engine (run scripts/podman-up.sh and export DOCKER_HOST)")
	}
	return dockerHost
}
