package agents_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// startSSHD runs a real OpenSSH server on a free loopback port with a
// temporary host key, accepting clientPub for the current user.
func startSSHD(t *testing.T, clientPub ssh.PublicKey) (port int, hostKeyFP string) {
	t.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/sshd"); err2 == nil {
			sshd = "/usr/sbin/sshd"
		} else {
			t.Skip("sshd not installed (Debian: apt-get install -y openssh-server); skipping the SSH deploy test")
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("the SSH deploy test runs sshd as root (privilege separation)")
	}
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pubBytes, _ := os.ReadFile(hostKey + ".pub")
	hk, _, _, _, err := ssh.ParseAuthorizedKey(pubBytes)
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(auth, ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := filepath.Join(dir, "sshd_config")
	conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
LogLevel ERROR
`, port, hostKey, filepath.Join(dir, "sshd.pid"), auth)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll("/run/sshd", 0o755)
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfg)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("sshd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not start: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return port, ssh.FingerprintSHA256(hk)
}

func TestDeployOverSSH(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("deploy test needs Linux")
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	clientKey := string(pem.EncodeToMemory(block))
	port, fp := startSSHD(t, sshPub)

	root := t.TempDir()
	env := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithAgentOnlineWindow(5 * time.Second),
		server.WithAgentDeployTarget(root)}})
	admin := env.Token("admin")
	body := map[string]any{"host": "127.0.0.1", "ssh_user": "root", "ssh_port": port, "ssh_key": clientKey, "server_url": env.URL}
	deploy := func(extra map[string]any) (int, map[string]any) {
		b := map[string]any{}
		for k, v := range body {
			b[k] = v
		}
		for k, v := range extra {
			b[k] = v
		}
		var out map[string]any
		st := env.JSON(http.MethodPost, "/api/agents/deploy", admin, b, &out)
		return st, out
	}
	// Validation before anything else.
	if st, out := deploy(map[string]any{"ssh_user": "bad user"}); st != 400 || out["error"] != "Invalid ssh_user" {
		t.Fatalf("bad user: %d %v", st, out)
	}
	if st, out := deploy(nil); st != 400 || out["error"] != "No agent keys configured. Set agentKeys in settings first." {
		t.Fatalf("no keys: %d %v", st, out)
	}
	if _, err := env.Server.Settings.Update(map[string]any{"agentKeys": testKey}); err != nil {
		t.Fatal(err)
	}
	// (agent keys are re-read at most once a second)
	waitFor(t, 5*time.Second, "no-artefact answer", func() bool {
		st, out := deploy(nil)
		return st == 503 && out["error"] == "Agent file not found on server"
	})
	agentDir := filepath.Join(env.Dir, "agent")
	_ = os.MkdirAll(agentDir, 0o755)
	b, _ := os.ReadFile(agentBin)
	if err := os.WriteFile(filepath.Join(agentDir, "noba-agent-linux-"+runtime.GOARCH), b, 0o755); err != nil {
		t.Fatal(err)
	}
	// An unknown host key is refused unless confirmed.
	st, out := deploy(nil)
	if st != 200 || out["status"] != "error" || out["step"] != "hostkey" || out["fingerprint"] != fp {
		t.Fatalf("unknown host key: %d %v", st, out)
	}
	if st, out := deploy(map[string]any{"host_key_fingerprint": "SHA256:wrong"}); out["step"] != "hostkey" {
		t.Fatalf("wrong fingerprint accepted: %d %v", st, out)
	}
	// Confirmed fingerprint: deploy, pin, install, start.
	st, out = deploy(map[string]any{"host_key_fingerprint": fp})
	if st != 200 || out["status"] != "ok" {
		t.Fatalf("deploy: %d %v", st, out)
	}
	t.Cleanup(func() {
		if pid, err := os.ReadFile(filepath.Join(root, "run", "noba-agent.pid")); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(pid))); err == nil {
				_ = syscall.Kill(n, syscall.SIGKILL)
			}
		}
	})
	if !strings.Contains(out["output"].(string), "PREFLIGHT_OK") {
		t.Errorf("output: %v", out["output"])
	}
	if _, has := out["warning"]; has {
		t.Errorf("unexpected warning: %v", out["warning"])
	}
	cfg, err := os.ReadFile(filepath.Join(root, "etc", "noba-agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(root, "etc", "noba-agent.yaml")); st.Mode().Perm() != 0o600 {
		t.Errorf("config mode %o, want 600", st.Mode().Perm())
	}
	if strings.Contains(string(cfg), testKey) {
		t.Errorf("deployed agent got the shared key; want its own bound key")
	}
	// The deployed agent reports under this machine's hostname.
	host, _ := os.Hostname()
	waitFor(t, 30*time.Second, "deployed agent online", func() bool {
		v := agentView(t, env, host)
		return v != nil && v["online"] == true
	})
	if !strings.Contains(env.Server.Settings.String("agentKeys"), host+":") {
		t.Errorf("no key bound to %s in agentKeys", host)
	}
	// Remote uninstall over SSH removes it from the host and the dashboard.
	var un map[string]any
	if st := env.JSON(http.MethodPost, "/api/agents/"+host+"/remote-uninstall", admin,
		map[string]any{"host": "127.0.0.1", "ssh_user": "root", "ssh_port": port, "ssh_key": clientKey}, &un); st != 200 || un["status"] != "ok" {
		t.Fatalf("remote uninstall: %d %v", st, un)
	}
	for _, p := range []string{"etc/noba-agent.yaml", "opt/noba-agent/noba-agent", "run/noba-agent.pid"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			t.Errorf("%s left after remote uninstall", p)
		}
	}
	if v := agentView(t, env, host); v != nil {
		t.Errorf("agent still listed after remote uninstall: %v", v)
	}
	time.Sleep(3 * time.Second)
	if v := agentView(t, env, host); v != nil {
		t.Errorf("uninstalled agent came back: %v", v)
	}

	// The pinned key is now required: a changed host key is refused.
	kh := filepath.Join(env.Dir, "known_hosts")
	data, _ := os.ReadFile(kh)
	if !strings.Contains(string(data), "ssh-ed25519") {
		t.Fatalf("known_hosts: %q", data)
	}
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	op, _ := ssh.NewPublicKey(otherPub)
	line := strings.Fields(string(data))[0] + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(op)))
	_ = os.WriteFile(kh, []byte(line+"\n"), 0o600)
	if st, out := deploy(map[string]any{"trust_host_key": true}); out["step"] != "hostkey" || !strings.Contains(out["error"].(string), "mismatch") {
		t.Fatalf("changed host key: %d %v", st, out)
	}
}
