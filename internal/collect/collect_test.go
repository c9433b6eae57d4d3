package collect

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/disk"
)

// fixture copies testdata/root into a temporary directory (the test then
// edits counters between collections) and returns a Host reading it with
// a stepping clock and fixed filesystem sizes.
func fixture(t *testing.T, opts HostOptions) (*Host, string, *time.Time) {
	t.Helper()
	root := t.TempDir()
	err := filepath.Walk("testdata/root", func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/root", p)
		dst := filepath.Join(root, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	opts.Root = root
	if opts.ContainerSockets == nil {
		opts.ContainerSockets = []string{}
	}
	h := NewHost(opts)
	now := time.Unix(1_700_000_000, 0)
	h.clock = func() time.Time { return now }
	h.statfs = func(mount string) (*disk.UsageStat, error) {
		switch mount {
		case "/":
			return &disk.UsageStat{Total: 500 << 30, Used: 310 << 30, Free: 190 << 30, UsedPercent: 62}, nil
		case "/home":
			return &disk.UsageStat{Total: 1000 << 30, Used: 905 << 30, Free: 95 << 30, UsedPercent: 90.5}, nil
		}
		return nil, os.ErrNotExist
	}
	return h, root, &now
}

func write(t *testing.T, root, rel, s string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, rel), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHostFixture(t *testing.T) {
	h, root, now := fixture(t, HostOptions{})
	ctx := context.Background()
	first, err := h.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := first["cpu_percent"]; got != 0.0 {
		t.Errorf("first cpu_percent = %v, want 0 (no previous sample)", got)
	}
	if got := first["netInterfaces"]; len(got.([]map[string]any)) != 0 {
		t.Errorf("first netInterfaces = %v, want [] (no previous sample)", got)
	}

	// 10 s later: counters moved.
	*now = now.Add(10 * time.Second)
	write(t, root, "proc/stat", `cpu  2000 0 1000 9000 0 0 0 0 0 0
cpu0 1500 0 500 4000 0 0 0 0 0 0
cpu1 500 0 500 5000 0 0 0 0 0 0
btime 1700000000
`)
	write(t, root, "proc/net/dev", `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  1000000    100    0    0    0     0          0         0  1000000    100    0    0    0     0       0          0
  eth0: 60000000   1000    0    0    0     0          0         0 25000000   1000    0    0    0     0       0          0
veth12:  3000000    100    0    0    0     0          0         0  3000000    100    0    0    0     0       0          0
`)
	write(t, root, "proc/diskstats", "   8       0 sda 1000 0 40000 100 500 0 10000 100 0 200 200 0 0 0 0 0 0\n")
	st, _ := os.ReadFile(filepath.Join(root, "proc/200/stat"))
	write(t, root, "proc/200/stat", strings.Replace(string(st), " 1000 500 ", " 1500 500 ", 1))

	p, err := h.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"hostname":     "fixture-host",
		"kernel":       "6.8.9-300.fc40.x86_64",
		"os":           "Fedora Linux 40 (Workstation Edition)",
		"osName":       "Fedora Linux 40 (Workstation Edition)",
		"uptime":       "3 days, 1:54:05",
		"loadavg":      "0.52 0.61 0.58",
		"cpu_percent":  50.0,
		"cpuPercent":   50.0,
		"memPercent":   50.0,
		"cpu_temp":     45.1,
		"cpuTemp":      "45°C",
		"gpu_temp":     52.0,
		"gpuTemp":      "52°C",
		"hwCpu":        "AMD Ryzen 7 5800X 8-Core Processor",
		"cpu_governor": "schedutil",
		"netRxRaw":     1e6,
		"netTxRaw":     500000.0,
		"net_rx_bytes": 1e6,
		"netRx":        "976.6 KB/s",
	}
	for k, w := range want {
		if g := got[k]; g != w {
			t.Errorf("%s = %#v, want %#v", k, g, w)
		}
	}
	check := func(key, want string) {
		t.Helper()
		b, _ := json.Marshal(got[key])
		if string(b) != want {
			t.Errorf("%s = %s, want %s", key, b, want)
		}
	}
	check("load", `[0.52,0.61,0.58]`)
	check("cpu_per_core", `[100,0]`)
	check("cpu_history", `[0,50]`)
	check("memory", `{"available":8192000000,"percent":50,"text":"7812 MiB / 15625 MiB","total":16384000000,"used":8192000000}`)
	check("swap", `{"free":1536000000,"percent":25,"total":2048000000,"used":512000000}`)
	check("netInterfaces", `[{"name":"eth0","rx_bps":1000000,"tx_bps":500000}]`)
	check("diskIo", `[{"device":"sda","read_bps":1024000,"write_bps":0}]`)
	check("battery", `{"desktop":false,"percent":80,"status":"Discharging","timeRemaining":"4h 0m"}`)
	check("containers", `[]`)
	check("services", `[]`)
	check("radar", `[]`)

	disks := got["disks"].([]any)
	if len(disks) != 2 {
		t.Fatalf("disks = %v, want / and /home (boot, snapd, run, proc skipped)", disks)
	}
	d0, d1 := disks[0].(map[string]any), disks[1].(map[string]any)
	if d0["mount"] != "/" || d0["percent"] != 62.0 || d0["barClass"] != "success" || d0["total"] != "500G" ||
		d0["used"] != "310G" || d0["free"] != "190G" || d0["size"] != "512000 MiB" {
		t.Errorf("disk / = %v", d0)
	}
	if d1["mount"] != "/home" || d1["percent"] != 91.0 || d1["barClass"] != "danger" {
		t.Errorf("disk /home = %v", d1)
	}

	top := got["topCpu"].([]any)[0].(map[string]any)
	if top["name"] != "postgres" || top["val"] != "50.0%" || top["pid"] != 200.0 {
		t.Errorf("topCpu[0] = %v, want postgres 50.0%% (5 s of CPU in 10 s)", top)
	}
	topMem := got["topMem"].([]any)[0].(map[string]any)
	if topMem["name"] != "postgres" || topMem["val"] != "10.0%" {
		t.Errorf("topMem[0] = %v, want postgres 10.0%%", topMem)
	}
	topIo := got["topIo"].([]any)[0].(map[string]any)
	if topIo["name"] != "postgres" || topIo["val"] != "4.7GB" {
		t.Errorf("topIo[0] = %v, want postgres 4.7GB", topIo)
	}
	for _, e := range got["topCpu"].([]any) {
		if n := e.(map[string]any)["name"].(string); len([]rune(n)) > 16 {
			t.Errorf("topCpu name %q longer than 16", n)
		}
	}
	procs := h.Processes()
	if len(procs) != 3 || procs[0].PID != 200 || procs[0].CPU != 50 || procs[0].User != "root" || procs[0].Status == "" {
		t.Errorf("Processes() = %+v", procs)
	}
}

func TestHostMissingFacilities(t *testing.T) {
	// An empty root: every collector gives its documented fallback.
	h := NewHost(HostOptions{Root: t.TempDir(), ContainerSockets: []string{}})
	p, err := h.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"cpu_temp": nil, "gpu_temp": nil, "cpuTemp": "N/A", "gpuTemp": "N/A", "uptime": "--",
		"loadavg": "--", "memory": nil, "hwCpu": "Unknown CPU", "hostname": "", "cpu_governor": "unknown"}
	for k, w := range want {
		if g := p[k]; g != w {
			t.Errorf("%s = %#v, want %#v", k, g, w)
		}
	}
	if b, _ := json.Marshal(p["battery"]); string(b) != `{"desktop":true,"percent":100,"status":"Desktop","timeRemaining":""}` {
		t.Errorf("battery = %s", b)
	}
	for _, k := range []string{"disks", "containers", "services", "radar", "topCpu", "diskIo", "netInterfaces"} {
		if b, _ := json.Marshal(p[k]); string(b) != "[]" {
			t.Errorf("%s = %s, want []", k, b)
		}
	}
}

func TestServices(t *testing.T) {
	bin, _ := filepath.Abs("testdata/bin/systemctl")
	h, _, _ := fixture(t, HostOptions{Systemctl: bin,
		Services: []string{"nginx", "syncthing", "backup.service", "broken.service", "nope", "bad name;rm"}})
	p, err := h.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p["services"])
	want := `[{"active":true,"is_user":false,"name":"nginx","status":"active","user":false},` +
		`{"active":true,"is_user":true,"name":"syncthing","status":"active","user":true},` +
		`{"active":true,"is_user":false,"name":"backup.service","status":"timer-active","user":false},` +
		`{"active":false,"is_user":false,"name":"broken.service","status":"failed","user":false},` +
		`{"active":false,"is_user":false,"name":"nope","status":"not-found","user":false},` +
		`{"active":false,"is_user":false,"name":"bad name;rm","status":"invalid","user":false}]`
	if string(b) != want {
		t.Errorf("services =\n%s\nwant\n%s", b, want)
	}

	// Without systemctl every unit is not-found.
	h2, _, _ := fixture(t, HostOptions{Systemctl: filepath.Join(t.TempDir(), "absent"), Services: []string{"nginx"}})
	p2, _ := h2.Collect(context.Background())
	if s := p2["services"].([]map[string]any)[0]["status"]; s != "not-found" {
		t.Errorf("without systemctl: status %v, want not-found", s)
	}
}

func TestContainersFromAPISocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "nobasock") // short path: unix socket names are limited
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/containers/json" || r.URL.Query().Get("all") != "1" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`[{"Id":"abc123def4567890","Names":["/web"],"Image":"docker.io/library/nginx:latest","State":"running","Status":"Up 3 hours"},
			{"Id":"fff","Names":["/db"],"Image":"postgres:16","State":"exited","Status":"Exited (0) 2 days ago"}]`))
	}))
	srv.Listener = ln
	srv.Start()
	defer srv.Close()

	h, _, _ := fixture(t, HostOptions{ContainerSockets: []string{filepath.Join(dir, "missing.sock"), sock}})
	p, err := h.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p["containers"])
	want := `[{"id":"abc123def456","image":"nginx:latest","name":"web","state":"running","status":"up"},` +
		`{"id":"fff","image":"postgres:16","name":"db","state":"exited","status":"exited"}]`
	if string(b) != want {
		t.Errorf("containers = %s\nwant %s", b, want)
	}
}

func TestRadar(t *testing.T) {
	if err := Ping(context.Background(), "127.0.0.1"); err == ErrNoPing {
		t.Skip("no ping binary and no ICMP socket permission on this host")
	}
	h, _, _ := fixture(t, HostOptions{RadarHosts: []string{"127.0.0.1", "not-an-ip"}, WANTestIP: "127.0.0.1"})
	p, err := h.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := p["radar"].([]map[string]any)
	if r[0]["status"] != "Up" || r[0]["up"] != true || r[0]["ms"].(int) < 1 {
		t.Errorf("radar 127.0.0.1 = %v, want Up", r[0])
	}
	if r[1]["status"] != "Down" || r[1]["ms"] != 0 {
		t.Errorf("radar not-an-ip = %v, want Down/0 (only IP literals are pinged)", r[1])
	}
	nh := p["netHealth"].(map[string]any)
	if nh["wan"] != "Up" || nh["lan"] != "Down" || nh["configured"] != true {
		t.Errorf("netHealth = %v", nh)
	}
}

func TestFormats(t *testing.T) {
	cases := []struct{ got, want string }{
		{UptimeLong(5), "0:00:05"}, {UptimeLong(86400 + 61), "1 day, 0:01:01"}, {UptimeLong(266045), "3 days, 1:54:05"},
		{UptimeShort(266045), "3d 1h 54m"}, {UptimeShort(7500), "2h 5m"},
		{HumanRate(0), "0.0 B/s"}, {HumanRate(1258291.2), "1.2 MB/s"},
		{HumanBytes(12.3 * 1024 * 1024), "12.3MB"}, {dfSize(500 << 30), "500G"}, {dfSize(9.5 * (1 << 30)), "9.5G"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// Issue 11 §12: a disk's percent is df's Use%, rounded up (60.1 % is 61).
func TestDiskPercentIsDfUse(t *testing.T) {
	for _, c := range []struct {
		used, avail uint64
		want        int
	}{{601, 399, 61}, {310, 190, 62}, {0, 10, 0}, {10, 0, 100}, {0, 0, 0}, {1, 999, 1}} {
		if got := dfPercent(c.used, c.avail); got != c.want {
			t.Errorf("dfPercent(%d, %d) = %d, want %d", c.used, c.avail, got, c.want)
		}
	}
}
