package infra_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/runcmd"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// Outputs recorded from the real systemctl 252 (Debian 12). The last is
// what it prints on a host whose PID 1 is not systemd (this CI machine).
const (
	stderrNotFound  = "Failed to restart nosuch.service: Unit nosuch.service not found.\n"
	stderrNoSystemd = "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n"
)

// sys is how system-scope systemctl runs: directly as root, else via sudo -n.
func sys(line string) string {
	if os.Geteuid() == 0 {
		return line
	}
	return "sudo -n " + line
}

func newEnv(t *testing.T, run runcmd.Runner) *servertest.Env {
	t.Helper()
	return servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithInfraRunner(run),
		server.WithDockerHost("unix:///nonexistent/docker.sock")}})
}

func TestServiceControl(t *testing.T) {
	rec := runcmd.NewRecorded(map[string]runcmd.Result{
		sys("systemctl --no-ask-password restart -- nginx.service"):  {},
		sys("systemctl --no-ask-password stop -- getty@tty1"):        {},
		"systemctl --user start -- syncthing.service":                {Stderr: "Warning: unit changed on disk\n"},
		sys("systemctl --no-ask-password restart -- nosuch.service"): {ExitCode: 5, Stderr: stderrNotFound},
		sys("systemctl --no-ask-password start -- nginx"):            {ExitCode: 1, Stderr: stderrNoSystemd},
	})
	e := newEnv(t, rec)
	op, viewer, admin := e.Token("operator"), e.Token("viewer"), e.Token("admin")
	var out map[string]any
	if st := e.JSON(http.MethodPost, "/api/service-control", op, map[string]any{"service": "nginx.service", "action": "restart"}, &out); st != 200 || out["success"] != true {
		t.Fatalf("restart: %d %v", st, out)
	}
	if _, ok := out["stderr"]; !ok {
		t.Errorf("response lacks stderr: %v", out)
	}
	// poweroff is accepted (the reference lists it) but never reaches systemctl as a verb.
	if st := e.JSON(http.MethodPost, "/api/service-control", op, map[string]any{"service": "getty@tty1", "action": "poweroff"}, &out); st != 200 {
		t.Fatalf("poweroff: %d %v", st, out)
	}
	if st := e.JSON(http.MethodPost, "/api/service-control", op, map[string]any{"service": "syncthing.service", "action": "start", "is_user": "yes"}, &out); st != 200 || out["stderr"] != "Warning: unit changed on disk" {
		t.Fatalf("user start: %d %v", st, out)
	}
	st, b := e.Do(http.MethodPost, "/api/service-control", op, map[string]any{"service": "nosuch.service", "action": "restart"})
	if st != 400 || !strings.Contains(string(b), "Unit nosuch.service not found") {
		t.Errorf("failing unit: %d %s", st, b)
	}
	st, b = e.Do(http.MethodPost, "/api/service-control", op, map[string]any{"service": "nginx", "action": "start"})
	if st != 400 || !strings.Contains(string(b), "not been booted with systemd") {
		t.Errorf("no systemd: %d %s", st, b)
	}
	before := len(rec.Calls())
	for _, name := range []string{"a;reboot", "$(id)", "nginx\nreboot", "..", "../../etc/passwd", "-H", "a b", "`id`", "a|b", "", strings.Repeat("a", 300)} {
		st, b := e.Do(http.MethodPost, "/api/service-control", op, map[string]any{"service": name, "action": "restart"})
		if st != 400 || !strings.Contains(string(b), "Invalid service name") {
			t.Errorf("service %q: %d %s", name, st, b)
		}
	}
	if st, b := e.Do(http.MethodPost, "/api/service-control", op, map[string]any{"service": "nginx", "action": "reboot"}); st != 400 || !strings.Contains(string(b), `Action \"reboot\" not allowed`) {
		t.Errorf("bad action: %d %s", st, b)
	}
	if n := len(rec.Calls()); n != before {
		t.Errorf("invalid input reached the runner: %v", rec.Calls()[before:])
	}
	if st, _ := e.Do(http.MethodPost, "/api/service-control", viewer, map[string]any{"service": "nginx", "action": "restart"}); st != 403 {
		t.Errorf("viewer: %d", st)
	}
	calls := strings.Join(rec.Calls(), "\n")
	if strings.Contains(calls, "poweroff") || !strings.Contains(calls, "stop -- getty@tty1") {
		t.Errorf("poweroff not mapped to stop: %s", calls)
	}
	var audit []map[string]any
	e.JSON(http.MethodGet, "/api/audit?limit=50", admin, nil, &audit)
	if a := fmt.Sprint(audit); !strings.Contains(a, "restart nginx.service (user=false) -> true") {
		t.Errorf("audit lacks service_control: %s", a)
	}
}

func TestHostNetworkListings(t *testing.T) {
	e := newEnv(t, runcmd.NewRecorded(nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	viewer, op := e.Token("viewer"), e.Token("operator")
	var ports []map[string]any
	if st := e.JSON(http.MethodGet, "/api/network/ports", viewer, nil, &ports); st != 200 {
		t.Fatalf("ports: %d", st)
	}
	found := false
	for _, p := range ports {
		if int(p["port"].(float64)) == port {
			found = true
			if int(p["pid"].(float64)) != os.Getpid() || p["process"] == "" || p["address"] != "127.0.0.1" {
				t.Errorf("port row %v (pid %d)", p, os.Getpid())
			}
		}
	}
	if !found {
		t.Errorf("listening port %d not listed", port)
	}
	var conns []map[string]any
	if st := e.JSON(http.MethodGet, "/api/network/connections", op, nil, &conns); st != 200 {
		t.Fatalf("connections: %d", st)
	}
	want := conn.LocalAddr().String()
	found = false
	for _, c := range conns {
		if c["local"] == want && c["remote"] == ln.Addr().String() && c["status"] == "ESTABLISHED" {
			found = true
		}
	}
	if !found {
		t.Errorf("connection %s not listed", want)
	}
	if st, _ := e.Do(http.MethodGet, "/api/network/connections", viewer, nil); st != 403 {
		t.Errorf("viewer connections: %d", st)
	}
	var ifs []map[string]any
	if st := e.JSON(http.MethodGet, "/api/network/interfaces", viewer, nil, &ifs); st != 200 {
		t.Fatalf("interfaces: %d", st)
	}
	for _, i := range ifs {
		if i["name"] == "lo" {
			t.Errorf("lo listed")
		}
		for _, k := range []string{"ip", "up", "speed", "mtu"} {
			if _, ok := i[k]; !ok {
				t.Errorf("interface lacks %s: %v", k, i)
			}
		}
	}
}

func TestServiceMap(t *testing.T) {
	e := newEnv(t, runcmd.NewRecorded(nil))
	if _, err := e.Server.Settings.Update(map[string]any{"piholeUrl": "http://127.0.0.1:1", "k8sUrl": "https://127.0.0.1:6443"}); err != nil {
		t.Fatal(err)
	}
	var m struct {
		Nodes []map[string]any `json:"nodes"`
		Edges []map[string]any `json:"edges"`
	}
	if st := e.JSON(http.MethodGet, "/api/services/map", e.Token("viewer"), nil, &m); st != 200 {
		t.Fatalf("map: %d", st)
	}
	ids := map[string]map[string]any{}
	for _, n := range m.Nodes {
		ids[n["id"].(string)] = n
	}
	if ids["noba"]["type"] != "core" || ids["pihole"]["type"] != "dns" || ids["k8s"]["label"] != "Kubernetes" || ids["plex"] != nil {
		t.Errorf("nodes = %v", m.Nodes)
	}
	if len(m.Edges) != len(m.Nodes)-1 {
		t.Errorf("edges = %v", m.Edges)
	}
}

// The map's core node and service nodes come from the collector's
// snapshot as the host collector builds it (services as
// []map[string]any): each watched unit is a node with its systemd state.
func TestServiceMapFromCollector(t *testing.T) {
	src := collect.SourceFunc(func(context.Context) (map[string]any, error) {
		return map[string]any{"cpuPercent": 17.5, "memPercent": 42.0, "uptime": "3d 4h",
			"services": []map[string]any{{"name": "nginx", "status": "active"}, {"name": "redis", "status": "failed"}}}, nil
	})
	e := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithStatsSource(src)}})
	viewer := e.Token("viewer")
	if st, _ := e.Do(http.MethodGet, "/api/stats", viewer, nil); st != http.StatusOK {
		t.Fatalf("stats: %d", st)
	}
	var m struct {
		Nodes []map[string]any `json:"nodes"`
		Edges []map[string]any `json:"edges"`
	}
	if st := e.JSON(http.MethodGet, "/api/services/map", viewer, nil, &m); st != 200 {
		t.Fatalf("map: %d", st)
	}
	ids := map[string]map[string]any{}
	for _, n := range m.Nodes {
		ids[n["id"].(string)] = n
	}
	if c := ids["noba"]; c["cpu"] != 17.5 || c["mem"] != 42.0 || c["uptime"] != "3d 4h" {
		t.Errorf("core = %v", c)
	}
	if ids["svc_nginx"]["status"] != "active" || ids["svc_redis"]["status"] != "failed" || ids["svc_redis"]["type"] != "service" {
		t.Errorf("nodes = %v", m.Nodes)
	}
	if len(m.Edges) != len(m.Nodes)-1 {
		t.Errorf("edges = %v", m.Edges)
	}
}

func TestTerminal(t *testing.T) {
	e := newEnv(t, runcmd.NewRecorded(nil))
	admin, op := e.Token("admin"), e.Token("operator")
	wsURL := "ws" + strings.TrimPrefix(e.URL, "http") + "/api/terminal"
	dial := func(tok, origin string) (*websocket.Conn, int) {
		h := http.Header{"Authorization": {"Bearer " + tok}}
		if origin != "" {
			h.Set("Origin", origin)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: h})
		if err != nil {
			if resp != nil {
				return nil, resp.StatusCode
			}
			t.Fatalf("dial: %v", err)
		}
		return c, 101
	}
	if _, st := dial(admin, e.URL); st != 403 {
		t.Errorf("disabled terminal: %d, want 403", st)
	}
	if _, err := e.Server.Settings.Update(map[string]any{"terminalEnabled": true}); err != nil {
		t.Fatal(err)
	}
	if _, st := dial(op, e.URL); st != 403 {
		t.Errorf("operator: %d, want 403", st)
	}
	if _, st := dial(admin, ""); st != 403 {
		t.Errorf("no Origin: %d, want 403", st)
	}
	if _, st := dial(admin, "http://evil.example"); st != 403 {
		t.Errorf("foreign Origin: %d, want 403", st)
	}
	// Same host, another port or scheme: another origin (issue 11 §9).
	host, _, _ := net.SplitHostPort(strings.TrimPrefix(e.URL, "http://"))
	for _, o := range []string{"http://" + host + ":1", "https://" + strings.TrimPrefix(e.URL, "http://")} {
		if _, st := dial(admin, o); st != 403 {
			t.Errorf("Origin %s: %d, want 403", o, st)
		}
	}
	c, st := dial(admin, e.URL)
	if st != 101 {
		t.Fatalf("admin dial: %d", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"resize","cols":100,"rows":40}`)); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("stty size; echo marker-$((6*7))\n")); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for !strings.Contains(got.String(), "marker-42") || !strings.Contains(got.String(), "40 100") {
		typ, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, got.String())
		}
		if typ != websocket.MessageBinary {
			t.Errorf("frame type %v, want binary", typ)
		}
		got.Write(data)
	}
	_ = c.Write(ctx, websocket.MessageText, []byte("exit\n"))
	for {
		if _, _, err := c.Read(ctx); err != nil {
			break
		}
	}
	c.CloseNow()
	var audit []map[string]any
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		e.JSON(http.MethodGet, "/api/audit?limit=50", admin, nil, &audit)
		if a := fmt.Sprint(audit); strings.Contains(a, "terminal_session_end") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a := fmt.Sprint(audit); !strings.Contains(a, "PTY session opened (role=admin)") || !strings.Contains(a, "PTY session closed") {
		t.Errorf("audit lacks terminal sessions: %s", a)
	}
}

// k8sFake speaks the Kubernetes REST API paths the room uses.
type k8sFake struct {
	mu      sync.Mutex
	scaled  map[string]int
	patchCT string
}

func (f *k8sFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer k8s-token" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"kind":"Status","status":"Failure","reason":"Unauthorized","code":401}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	pod := func(ns, name string) string {
		return `{"metadata":{"name":"` + name + `","namespace":"` + ns + `","creationTimestamp":"2026-11-01T10:00:00Z"},"spec":{"nodeName":"node-1"},` +
			`"status":{"phase":"Running","podIP":"10.42.0.7","containerStatuses":[{"name":"app","ready":true,"restartCount":2,"image":"nginx:1.27","state":{"running":{"startedAt":"2026-11-01T10:00:05Z"}}},` +
			`{"name":"sidecar","ready":false,"restartCount":0,"image":"busybox","state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}`
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/namespaces":
		_, _ = io.WriteString(w, `{"kind":"NamespaceList","apiVersion":"v1","items":[{"metadata":{"name":"default","creationTimestamp":"2026-10-01T00:00:00Z"},"status":{"phase":"Active"}},{"metadata":{"name":"media","creationTimestamp":"2026-10-02T00:00:00Z"},"status":{"phase":"Terminating"}}]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/pods":
		_, _ = io.WriteString(w, `{"kind":"PodList","items":[`+pod("default", "web-1")+`,`+pod("media", "plex-0")+`]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/namespaces/media/pods":
		_, _ = io.WriteString(w, `{"kind":"PodList","items":[`+pod("media", "plex-0")+`]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/namespaces/media/pods/plex-0/log":
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "tail=%s container=%s\nready\n", r.URL.Query().Get("tailLines"), r.URL.Query().Get("container"))
	case r.Method == http.MethodGet && r.URL.Path == "/apis/apps/v1/deployments":
		_, _ = io.WriteString(w, `{"kind":"DeploymentList","items":[{"metadata":{"name":"web","namespace":"default"},"spec":{"replicas":3},"status":{"replicas":3,"readyReplicas":2,"availableReplicas":2,"updatedReplicas":3}},{"metadata":{"name":"idle","namespace":"default"},"spec":{"replicas":0},"status":{}}]}`)
	case r.Method == http.MethodPatch && r.URL.Path == "/apis/apps/v1/namespaces/default/deployments/web/scale":
		var body struct {
			Spec struct {
				Replicas int `json:"replicas"`
			} `json:"spec"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.scaled["default/web"], f.patchCT = body.Spec.Replicas, r.Header.Get("Content-Type")
		f.mu.Unlock()
		fmt.Fprintf(w, `{"kind":"Scale","spec":{"replicas":%d}}`, body.Spec.Replicas)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"kind":"Status","status":"Failure","reason":"NotFound","code":404}`)
	}
}

func TestKubernetes(t *testing.T) {
	fake := &k8sFake{scaled: map[string]int{}}
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	e := newEnv(t, runcmd.NewRecorded(nil))
	viewer, op := e.Token("viewer"), e.Token("operator")
	if st, b := e.Do(http.MethodGet, "/api/k8s/namespaces", viewer, nil); st != 400 || !strings.Contains(string(b), "Kubernetes not configured") {
		t.Errorf("unconfigured: %d %s", st, b)
	}
	// The fake's certificate is self-signed: verification on fails (502), off works.
	if _, err := e.Server.Settings.Update(map[string]any{"k8sUrl": srv.URL, "k8sToken": "k8s-token"}); err != nil {
		t.Fatal(err)
	}
	if st, b := e.Do(http.MethodGet, "/api/k8s/namespaces", viewer, nil); st != 502 || !strings.Contains(string(b), "K8s API error") {
		t.Errorf("untrusted certificate: %d %s", st, b)
	}
	if _, err := e.Server.Settings.Update(map[string]any{"k8sVerifySsl": false}); err != nil {
		t.Fatal(err)
	}
	var ns []map[string]any
	if st := e.JSON(http.MethodGet, "/api/k8s/namespaces", viewer, nil, &ns); st != 200 || len(ns) != 2 || ns[1]["name"] != "media" || ns[1]["status"] != "Terminating" || ns[0]["created"] != "2026-10-01T00:00:00Z" {
		t.Fatalf("namespaces: %d %v", st, ns)
	}
	var pods []map[string]any
	if st := e.JSON(http.MethodGet, "/api/k8s/pods?namespace=media", viewer, nil, &pods); st != 200 || len(pods) != 1 {
		t.Fatalf("pods: %d %v", st, pods)
	}
	p := pods[0]
	cs := p["containers"].([]any)
	c0, c1 := cs[0].(map[string]any), cs[1].(map[string]any)
	if p["node"] != "node-1" || p["phase"] != "Running" || p["ip"] != "10.42.0.7" || c0["state"] != "running" || c0["restarts"] != 2.0 || c1["state"] != "waiting" || c1["ready"] != false {
		t.Errorf("pod = %v", p)
	}
	if st := e.JSON(http.MethodGet, "/api/k8s/pods", viewer, nil, &pods); st != 200 || len(pods) != 2 {
		t.Errorf("all pods: %d %v", st, pods)
	}
	st, b := e.Do(http.MethodGet, "/api/k8s/pods/media/plex-0/logs?lines=20&container=app", op, nil)
	if st != 200 || !strings.Contains(string(b), "tail=20 container=app") {
		t.Errorf("logs: %d %s", st, b)
	}
	if st, _ := e.Do(http.MethodGet, "/api/k8s/pods/media/plex-0/logs", viewer, nil); st != 403 {
		t.Errorf("viewer logs: %d", st)
	}
	if st, b := e.Do(http.MethodGet, "/api/k8s/pods/media/gone-0/logs", op, nil); st != 502 || !strings.Contains(string(b), "K8s log fetch failed") {
		t.Errorf("missing pod logs: %d %s", st, b)
	}
	var deps []map[string]any
	if st := e.JSON(http.MethodGet, "/api/k8s/deployments", viewer, nil, &deps); st != 200 || len(deps) != 2 || deps[0]["ready"] != 2.0 || deps[1]["available"] != 0.0 {
		t.Errorf("deployments: %d %v", st, deps)
	}
	var sc map[string]any
	if st := e.JSON(http.MethodPost, "/api/k8s/deployments/default/web/scale", op, map[string]any{"replicas": 5}, &sc); st != 200 || sc["replicas"] != 5.0 || sc["success"] != true {
		t.Fatalf("scale: %d %v", st, sc)
	}
	fake.mu.Lock()
	if fake.scaled["default/web"] != 5 || fake.patchCT != "application/merge-patch+json" {
		t.Errorf("upstream scale %v %q", fake.scaled, fake.patchCT)
	}
	fake.mu.Unlock()
	for _, v := range []any{101, -1, 2.5, "3"} {
		if st, b := e.Do(http.MethodPost, "/api/k8s/deployments/default/web/scale", op, map[string]any{"replicas": v}); st != 400 || !strings.Contains(string(b), "Replicas must be 0-100") {
			t.Errorf("replicas %v: %d %s", v, st, b)
		}
	}
	for _, bad := range []string{"Media", "a_b%3Bc", "a..b", "-x", "%24(id)"} {
		if st, _ := e.Do(http.MethodGet, "/api/k8s/pods?namespace="+bad, viewer, nil); st != 400 {
			t.Errorf("namespace %q: %d, want 400", bad, st)
		}
		if st, _ := e.Do(http.MethodPost, "/api/k8s/deployments/"+bad+"/web/scale", op, map[string]any{"replicas": 1}); st != 400 {
			t.Errorf("scale ns %q: %d, want 400", bad, st)
		}
	}
	if st, _ := e.Do(http.MethodPost, "/api/k8s/deployments/default/missing/scale", op, map[string]any{"replicas": 1}); st != 502 {
		t.Errorf("scale missing: %d", st)
	}
	if _, err := e.Server.Settings.Update(map[string]any{"k8sToken": "wrong"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.Do(http.MethodGet, "/api/k8s/namespaces", viewer, nil); st != 502 {
		t.Errorf("bad token: %d", st)
	}
}

func TestKubernetesInCluster(t *testing.T) {
	fake := &k8sFake{scaled: map[string]int{}}
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	root := t.TempDir()
	sa := filepath.Join(root, "var/run/secrets/kubernetes.io/serviceaccount")
	if err := os.MkdirAll(sa, 0o755); err != nil {
		t.Fatal(err)
	}
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(sa, "ca.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sa, "token"), []byte("k8s-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithInfraRunner(runcmd.NewRecorded(nil)),
		server.WithInfraSysRoot(root), server.WithK8sInCluster(strings.TrimPrefix(srv.URL, "https://"))}})
	// The pod's token and CA (verification on, against the service account CA).
	var ns []map[string]any
	if st := e.JSON(http.MethodGet, "/api/k8s/namespaces", e.Token("viewer"), nil, &ns); st != 200 || len(ns) != 2 {
		t.Fatalf("in-cluster namespaces: %d %v", st, ns)
	}
}

func TestProxmox(t *testing.T) {
	var mu sync.Mutex
	var created map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "PVEAPIToken=noba@pve!dash=pve-secret" {
			http.Error(w, `{"data":null}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api2/json/nodes/pve/qemu":
			_, _ = io.WriteString(w, `{"data":[{"vmid":100,"name":"web","status":"running","cpu":0.0312,"mem":1073741824,"maxmem":4294967296,"uptime":3600,"disk":0,"maxdisk":34359738368}]}`)
		case r.Method == http.MethodGet && r.URL.Path == "/api2/json/nodes/pve/lxc":
			_, _ = io.WriteString(w, `{"data":[{"vmid":"200","name":"dns","status":"stopped","cpu":0,"mem":0,"maxmem":536870912,"uptime":0,"disk":"1024","maxdisk":"8589934592","type":"lxc"}]}`)
		case r.Method == http.MethodGet && r.URL.Path == "/api2/json/nodes/pve/qemu/100/snapshot":
			_, _ = io.WriteString(w, `{"data":[{"name":"before-upgrade","description":"pre","snaptime":1790000000,"vmstate":0},{"name":"current","description":"You are here!","parent":"before-upgrade","running":1}]}`)
		case r.Method == http.MethodPost && r.URL.Path == "/api2/json/nodes/pve/lxc/200/snapshot":
			mu.Lock()
			_ = json.NewDecoder(r.Body).Decode(&created)
			mu.Unlock()
			_, _ = io.WriteString(w, `{"data":"UPID:pve:0000A1B2:0001C3D4:67000000:vzsnapshot:200:noba@pve!dash:"}`)
		default:
			http.Error(w, `{"data":null,"errors":{"vmid":"does not exist"}}`, http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	e := newEnv(t, runcmd.NewRecorded(nil))
	viewer, op, admin := e.Token("viewer"), e.Token("operator"), e.Token("admin")
	if st, b := e.Do(http.MethodGet, "/api/proxmox/nodes/pve/vms", viewer, nil); st != 400 || !strings.Contains(string(b), "Proxmox not configured") {
		t.Errorf("unconfigured: %d %s", st, b)
	}
	if _, err := e.Server.Settings.Update(map[string]any{"proxmoxUrl": srv.URL, "proxmoxUser": "noba@pve", "proxmoxTokenName": "dash", "proxmoxTokenValue": "pve-secret"}); err != nil {
		t.Fatal(err)
	}
	var vms []map[string]any
	if st := e.JSON(http.MethodGet, "/api/proxmox/nodes/pve/vms", viewer, nil, &vms); st != 200 || len(vms) != 2 {
		t.Fatalf("vms: %d %v", st, vms)
	}
	if vms[0]["type"] != "qemu" || vms[0]["cpu"] != 3.1 || vms[0]["mem_percent"] != 25.0 || vms[1]["vmid"] != 200.0 || vms[1]["type"] != "lxc" || vms[1]["maxdisk"] != 8589934592.0 {
		t.Errorf("vms = %v", vms)
	}
	var snaps []map[string]any
	if st := e.JSON(http.MethodGet, "/api/proxmox/nodes/pve/vms/100/snapshots", viewer, nil, &snaps); st != 200 || len(snaps) != 2 || snaps[1]["parent"] != "before-upgrade" || snaps[0]["snaptime"] != 1790000000.0 {
		t.Errorf("snapshots: %d %v", st, snaps)
	}
	if st, _ := e.Do(http.MethodGet, "/api/proxmox/nodes/pve/vms/999/snapshots", viewer, nil); st != 502 {
		t.Errorf("missing vm: %d", st)
	}
	var res map[string]any
	if st := e.JSON(http.MethodPost, "/api/proxmox/nodes/pve/vms/200/snapshot", admin, map[string]any{"name": "nightly-1", "description": "by noba", "type": "lxc"}, &res); st != 200 || !strings.HasPrefix(fmt.Sprint(res["task"]), "UPID:pve:") {
		t.Fatalf("snapshot: %d %v", st, res)
	}
	mu.Lock()
	if created["snapname"] != "nightly-1" || created["description"] != "by noba" {
		t.Errorf("upstream body %v", created)
	}
	mu.Unlock()
	if st, _ := e.Do(http.MethodPost, "/api/proxmox/nodes/pve/vms/200/snapshot", op, map[string]any{"name": "x"}); st != 403 {
		t.Errorf("operator snapshot: %d", st)
	}
	for _, c := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"name": "a b"}, "Invalid snapshot name"},
		{map[string]any{"name": "$(id)"}, "Invalid snapshot name"},
		{map[string]any{"name": "ok", "type": "vm"}, "type must be 'qemu' or 'lxc'"},
	} {
		if st, b := e.Do(http.MethodPost, "/api/proxmox/nodes/pve/vms/100/snapshot", admin, c.body); st != 400 || !strings.Contains(string(b), c.msg) {
			t.Errorf("%v: %d %s", c.body, st, b)
		}
	}
	if st, _ := e.Do(http.MethodGet, "/api/proxmox/nodes/pve/vms/abc/snapshots", viewer, nil); st != 400 {
		t.Errorf("vmid abc: %d", st)
	}
	if st, _ := e.Do(http.MethodGet, "/api/proxmox/nodes/pve%3Bx/vms", viewer, nil); st != 400 {
		t.Errorf("hostile node: %d", st)
	}
	var con map[string]string
	if st := e.JSON(http.MethodGet, "/api/proxmox/nodes/pve/vms/100/console", op, nil, &con); st != 200 || !strings.HasPrefix(con["url"], srv.URL+"/?") || !strings.Contains(con["url"], "vmid=100") || !strings.Contains(con["url"], "node=pve") {
		t.Errorf("console: %d %v", st, con)
	}
	if st, _ := e.Do(http.MethodGet, "/api/proxmox/nodes/pve/vms/100/console", viewer, nil); st != 403 {
		t.Errorf("viewer console: %d", st)
	}
	if st, _ := e.Do(http.MethodGet, "/api/proxmox/nodes/pve/vms/100/console?type=xen", op, nil); st != 400 {
		t.Errorf("console bad type: %d", st)
	}
}

func TestNetworkDevicesWithoutAgent(t *testing.T) {
	e := newEnv(t, runcmd.NewRecorded(nil))
	viewer, op := e.Token("viewer"), e.Token("operator")
	if st, b := e.Do(http.MethodGet, "/api/network/devices", viewer, nil); st != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("devices: %d %s", st, b)
	}
	if st, b := e.Do(http.MethodPost, "/api/network/discover/ghost-host", op, nil); st != 404 || !strings.Contains(string(b), "Agent 'ghost-host' not found or offline") {
		t.Errorf("discover unknown: %d %s", st, b)
	}
	if st, b := e.Do(http.MethodDelete, "/api/network/devices/42", op, nil); st != 404 || !strings.Contains(string(b), "Device 42 not found") {
		t.Errorf("delete missing: %d %s", st, b)
	}
	if st, _ := e.Do(http.MethodDelete, "/api/network/devices/abc", op, nil); st != 400 {
		t.Errorf("delete abc: %d", st)
	}
}
