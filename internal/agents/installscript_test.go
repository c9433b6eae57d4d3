package agents_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/noba-go/noba/deploy/systemd"
	"github.com/noba-go/noba/internal/agents"
)

// TestInstallScriptRuns runs the served install script with bash against a
// fake root (NOBA_INSTALL_ROOT) and the real server: it downloads the agent
// from /api/agent/update, checks its checksum, writes the config mode 600
// and, when systemd runs (ROOT/run/systemd/system), installs
// deploy/systemd/noba-agent.service and enables and restarts it; without
// systemd it installs the agent and says how to start it. systemctl is the
// only stand-in: a script on PATH recording its arguments.
func TestInstallScriptRuns(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the install script test needs Linux (bash, curl, sha256sum)")
	}
	for _, tool := range []string{"bash", "curl", "sha256sum", "install"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	arch := map[string]string{"amd64": "amd64", "arm64": "arm64", "arm": "arm", "386": "386", "riscv64": "riscv64"}[runtime.GOARCH]
	if arch == "" {
		t.Skipf("no agent platform for %s", runtime.GOARCH)
	}
	env := newEnv(t)
	// The agent artefact the server serves: any file; the script must install these bytes.
	artefact := []byte("#!/bin/sh\necho noba-agent test artefact\n")
	agentDir := filepath.Join(env.Dir, "agent")
	if err := os.MkdirAll(agentDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(agentDir, "noba-agent-linux-"+arch), artefact, 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "install.sh")
	if err := os.WriteFile(script, []byte(agents.InstallScript(env.URL, testKey)), 0o700); err != nil {
		t.Fatal(err)
	}

	run := func(t *testing.T, withSystemd bool) (root, out string) {
		t.Helper()
		root = t.TempDir()
		if withSystemd {
			if err := os.MkdirAll(filepath.Join(root, "run", "systemd", "system"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		bin := t.TempDir()
		fake := "#!/bin/sh\necho \"$*\" >> " + filepath.Join(root, "systemctl.log") + "\n"
		if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), "NOBA_INSTALL_ROOT="+root, "PATH="+bin+":"+os.Getenv("PATH"))
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		if err := cmd.Run(); err != nil {
			if os.Getuid() != 0 {
				t.Skipf("the script needs root or sudo here: %v\n%s", err, b.String())
			}
			t.Fatalf("install script: %v\n%s", err, b.String())
		}
		got, err := os.ReadFile(filepath.Join(root, "opt", "noba-agent", "noba-agent"))
		if err != nil || !bytes.Equal(got, artefact) {
			t.Fatalf("installed agent = %q, %v; want the served artefact\n%s", got, err, b.String())
		}
		cfgPath := filepath.Join(root, "etc", "noba-agent.yaml")
		st, err := os.Stat(cfgPath)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("config: %v %v, want mode 600", st, err)
		}
		cfg, _ := os.ReadFile(cfgPath)
		if !strings.Contains(string(cfg), "server: "+env.URL+"\n") || !strings.Contains(string(cfg), "api_key: "+testKey+"\n") {
			t.Fatalf("config:\n%s", cfg)
		}
		return root, b.String()
	}

	t.Run("systemd", func(t *testing.T) {
		root, out := run(t, true)
		unit, err := os.ReadFile(filepath.Join(root, "etc", "systemd", "system", "noba-agent.service"))
		if err != nil || string(unit) != systemd.AgentUnit {
			t.Fatalf("unit (%v) differs from deploy/systemd/noba-agent.service:\n%s", err, unit)
		}
		if st, _ := os.Stat(filepath.Join(root, "etc", "systemd", "system", "noba-agent.service")); st.Mode().Perm() != 0o644 {
			t.Fatalf("unit mode %v, want 644", st.Mode())
		}
		calls, _ := os.ReadFile(filepath.Join(root, "systemctl.log"))
		if string(calls) != "daemon-reload\nenable noba-agent\nrestart noba-agent\n" {
			t.Fatalf("systemctl calls:\n%s\noutput:\n%s", calls, out)
		}
		if !strings.Contains(out, "Agent installed and started") {
			t.Fatalf("output:\n%s", out)
		}
	})
	t.Run("no systemd", func(t *testing.T) {
		root, out := run(t, false)
		if _, err := os.Stat(filepath.Join(root, "etc", "systemd", "system", "noba-agent.service")); !os.IsNotExist(err) {
			t.Fatalf("unit written without systemd: %v", err)
		}
		if _, err := os.Stat(filepath.Join(root, "systemctl.log")); !os.IsNotExist(err) {
			t.Fatal("systemctl called without systemd")
		}
		if !strings.Contains(out, "systemd not found: start "+root+"/opt/noba-agent/noba-agent --config "+root+"/etc/noba-agent.yaml yourself") {
			t.Fatalf("output:\n%s", out)
		}
	})
}
