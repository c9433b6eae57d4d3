package ops_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/runcmd"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// priv is how privileged tools are run: directly as root, else via sudo -n.
func priv(line string) string {
	if os.Geteuid() == 0 {
		return line
	}
	return "sudo -n " + line
}

func newEnv(t *testing.T, run runcmd.Runner, opts ...server.Option) *servertest.Env {
	t.Helper()
	opts = append([]server.Option{server.WithInfraRunner(run), server.WithDockerHost("unix:///nonexistent/docker.sock")}, opts...)
	return servertest.NewWith(t, servertest.Setup{Options: opts})
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSmart(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"sda", "nvme0n1", "vda", "loop0", "zram0"} {
		if err := os.MkdirAll(filepath.Join(root, "sys/block", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The virtio disk: smartctl run for real when this host has it (it
	// cannot identify the device), else its recording from this machine.
	vdaOut, vdaExit := fixture(t, "smartctl-vda-unsupported.json"), 1
	if _, err := exec.LookPath("smartctl"); err == nil && os.Geteuid() == 0 {
		if _, err := os.Stat("/dev/vda"); err == nil {
			b, err := exec.Command("smartctl", "-a", "-j", "/dev/vda").Output()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				vdaOut, vdaExit = string(b), ee.ExitCode()
			} else if err == nil {
				vdaOut, vdaExit = string(b), 0
			}
		}
	}
	var vdaJSON struct {
		Smartctl struct {
			Messages []struct{ String string } `json:"messages"`
		} `json:"smartctl"`
	}
	_ = json.Unmarshal([]byte(vdaOut), &vdaJSON)
	rec := runcmd.NewRecorded(map[string]runcmd.Result{
		// smartctl's exit status is a bitmask: 64 (error log has entries) with valid JSON is still data.
		// The ATA and NVMe documents follow smartctl 7.3's JSON schema (no such disks here to record).
		priv("smartctl -a -j /dev/sda"):     {Stdout: fixture(t, "smartctl-ata.json"), ExitCode: 64},
		priv("smartctl -a -j /dev/nvme0n1"): {Stdout: fixture(t, "smartctl-nvme.json")},
		priv("smartctl -a -j /dev/vda"):     {Stdout: vdaOut, ExitCode: vdaExit},
	})
	e := newEnv(t, rec, server.WithInfraSysRoot(root))
	var out []map[string]any
	if st := e.JSON(http.MethodGet, "/api/smart", e.Token("viewer"), nil, &out); st != 200 || len(out) != 3 {
		t.Fatalf("smart: %d %v", st, out)
	}
	byDev := map[string]map[string]any{}
	for _, d := range out {
		byDev[d["device"].(string)] = d
	}
	sda, nvme, vda := byDev["/dev/sda"], byDev["/dev/nvme0n1"], byDev["/dev/vda"]
	attrs := sda["attributes"].(map[string]any)
	if sda["model"] != "WDC WD40EFRX-68N32N0" || sda["smart_ok"] != true || sda["temp_c"] != 38.0 || sda["power_on_hours"] != 34567.0 ||
		attrs["reallocated_sectors"] != 8.0 || sda["risk_score"] != 60.0 || sda["capacity_bytes"] != 4000787030016.0 {
		t.Errorf("sda = %v", sda)
	}
	na := nvme["attributes"].(map[string]any)
	if nvme["temp_c"] != 61.0 || na["percentage_used"] != 3.0 || na["available_spare_pct"] != 100.0 || nvme["risk_score"] != 40.0 || nvme["power_on_hours"] != 8760.0 {
		t.Errorf("nvme = %v", nvme)
	}
	if len(vdaJSON.Smartctl.Messages) == 0 || vda["error"] != vdaJSON.Smartctl.Messages[0].String ||
		!strings.HasPrefix(vdaJSON.Smartctl.Messages[0].String, "/dev/vda: ") {
		t.Errorf("vda = %v", vda)
	}
	// Cached for 300 s: a second call runs nothing.
	n := len(rec.Calls())
	e.JSON(http.MethodGet, "/api/smart", e.Token("viewer"), nil, &out)
	if len(rec.Calls()) != n {
		t.Errorf("smart not cached")
	}
	// smartctl missing: an empty list.
	e2 := newEnv(t, runcmd.NewRecorded(nil), server.WithInfraSysRoot(root))
	if st, b := e2.Do(http.MethodGet, "/api/smart", e2.Token("viewer"), nil); st != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("no smartctl: %d %s", st, b)
	}
}

// journalOut is recorded from journalctl 252 (--output short-iso).
const journalOut = `2026-12-05T07:01:02+0000 host sshd[812]: Accepted publickey for admin from 127.0.0.1 port 51234 ssh2: ED25519 SHA256:abc
2026-12-05T07:01:02+0000 host sshd[812]: pam_unix(sshd:session): session opened for user admin(uid=1000) by (uid=0)
2026-12-05T07:05:10+0000 host nginx[901]: 2026/12/05 07:05:10 [error] 901#901: *1 open() "/srv/www/favicon.ico" failed (2: No such file or directory)
`

// unitsOut is recorded from systemctl 252 list-units --type=service --no-pager --plain --no-legend.
const unitsOut = `cron.service                       loaded active running Regular background program processing daemon
dbus.service                       loaded active running D-Bus System Message Bus
getty@tty1.service                 loaded active running Getty on tty1
nginx.service                      loaded failed failed  A high performance web server and a reverse proxy server
systemd-journald.service           loaded active running Journal Service
`

func TestJournal(t *testing.T) {
	rec := runcmd.NewRecorded(map[string]runcmd.Result{
		"journalctl --no-pager -n 50 --output short-iso":                                                       {Stdout: journalOut},
		"journalctl --no-pager -n 20 --output short-iso -u nginx.service -p err --since 2 hour ago -g failed$": {Stdout: journalOut[strings.LastIndex(journalOut[:len(journalOut)-1], "\n")+1:]},
		"journalctl --no-pager -n 50 --output short-iso -u ssh.service":                                        {Stdout: "-- No entries --\n"},
		"systemctl list-units --type=service --no-pager --plain --no-legend":                                   {Stdout: unitsOut},
	})
	e := newEnv(t, rec)
	op, viewer := e.Token("operator"), e.Token("viewer")
	st, b := e.Do(http.MethodGet, "/api/journal", op, nil)
	if st != 200 || string(b) != journalOut {
		t.Errorf("journal: %d %q", st, b)
	}
	st, b = e.Do(http.MethodGet, "/api/journal?unit=nginx.service&priority=err&lines=20&since=2+hour+ago&grep=failed$", op, nil)
	if st != 200 || !strings.Contains(string(b), "favicon.ico") || strings.Contains(string(b), "sshd") {
		t.Errorf("filtered journal: %d %q (calls %v)", st, b, rec.Calls())
	}
	// Unusable priority and since values are ignored, never passed on.
	st, b = e.Do(http.MethodGet, "/api/journal?priority=loud&since=yesterday%3Breboot", op, nil)
	if st != 200 || string(b) != journalOut {
		t.Errorf("ignored filters: %d %q", st, b)
	}
	if st, b := e.Do(http.MethodGet, "/api/journal?unit=ssh.service", op, nil); st != 200 || string(b) != "No entries." {
		t.Errorf("no entries: %d %q", st, b)
	}
	n := len(rec.Calls())
	for _, u := range []string{"a%3Bb", "%24(id)", "a%0Ab", "..", "-x", "a%20b"} {
		if st, b := e.Do(http.MethodGet, "/api/journal?unit="+u, op, nil); st != 400 || !strings.Contains(string(b), "Invalid unit name") {
			t.Errorf("unit %q: %d %s", u, st, b)
		}
	}
	if st, b := e.Do(http.MethodGet, "/api/journal?grep=(a%2B)%2B", op, nil); st != 400 || !strings.Contains(string(b), "Unsafe regex pattern") {
		t.Errorf("nested quantifier: %d %s", st, b)
	}
	if st, b := e.Do(http.MethodGet, "/api/journal?grep=(unclosed", op, nil); st != 400 || !strings.Contains(string(b), "Invalid regex pattern") {
		t.Errorf("bad regex: %d %s", st, b)
	}
	if st, _ := e.Do(http.MethodGet, "/api/journal?lines=x", op, nil); st != 400 {
		t.Errorf("lines=x: %d", st)
	}
	if len(rec.Calls()) != n {
		t.Errorf("invalid input reached the runner: %v", rec.Calls()[n:])
	}
	if st, _ := e.Do(http.MethodGet, "/api/journal", viewer, nil); st != 403 {
		t.Errorf("viewer journal: %d", st)
	}
	var units []map[string]string
	if st := e.JSON(http.MethodGet, "/api/journal/units", op, nil, &units); st != 200 || len(units) != 5 || units[3]["name"] != "nginx.service" || units[3]["status"] != "failed" || units[0]["status"] != "running" {
		t.Errorf("units: %d %v", st, units)
	}
	// Without journalctl / without systemd (recorded on this machine).
	e2 := newEnv(t, runcmd.NewRecorded(map[string]runcmd.Result{
		"systemctl list-units --type=service --no-pager --plain --no-legend": {ExitCode: 1,
			Stderr: "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n"},
	}))
	op2 := e2.Token("operator")
	if st, b := e2.Do(http.MethodGet, "/api/journal", op2, nil); st != 200 || string(b) != "journalctl not available" {
		t.Errorf("no journalctl: %d %q", st, b)
	}
	if st, b := e2.Do(http.MethodGet, "/api/journal/units", op2, nil); st != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("units without systemd: %d %s", st, b)
	}
}

func TestRecoveryAndGovernor(t *testing.T) {
	rec := runcmd.NewRecorded(map[string]runcmd.Result{
		priv("systemctl --no-ask-password restart -- pihole-FTL"): {},
		priv("systemctl --no-ask-password restart -- nginx"):      {ExitCode: 1, Stderr: "Job for nginx.service failed because the control process exited with error code.\n"},
	})
	e := newEnv(t, rec)
	op, viewer, admin := e.Token("operator"), e.Token("viewer"), e.Token("admin")
	var out map[string]any
	if st := e.JSON(http.MethodPost, "/api/recovery/dns-flush", op, nil, &out); st != 200 || out["status"] != "ok" {
		t.Errorf("dns flush: %d %v", st, out)
	}
	if st := e.JSON(http.MethodPost, "/api/recovery/service-restart", op, map[string]string{"service": "nginx"}, &out); st != 200 || out["status"] != "error" || out["service"] != "nginx" || !strings.Contains(fmt.Sprint(out["error"]), "Job for nginx.service failed") {
		t.Errorf("service restart: %d %v", st, out)
	}
	// tailscale is not installed: the documented error body, HTTP 200.
	if st := e.JSON(http.MethodPost, "/api/recovery/tailscale-reconnect", op, nil, &out); st != 200 || out["status"] != "error" || !strings.HasPrefix(fmt.Sprint(out["error"]), "Operation failed") {
		t.Errorf("tailscale: %d %v", st, out)
	}
	n := len(rec.Calls())
	for _, s := range []string{"a;reboot", "$(id)", "x\ny", "..", "-H", ""} {
		if st, b := e.Do(http.MethodPost, "/api/recovery/service-restart", op, map[string]string{"service": s}); st != 400 || !strings.Contains(string(b), "Invalid service name") {
			t.Errorf("restart %q: %d %s", s, st, b)
		}
	}
	if _, err := e.Server.Settings.Update(map[string]any{"dnsService": "pihole;reboot"}); err != nil {
		t.Fatal(err)
	}
	if st := e.JSON(http.MethodPost, "/api/recovery/dns-flush", op, nil, &out); st != 200 || out["error"] != "Invalid dnsService name in config: 'pihole;reboot'" {
		t.Errorf("hostile dnsService: %d %v", st, out)
	}
	if st, b := e.Do(http.MethodPost, "/api/system/cpu-governor", admin, map[string]string{"governor": "turbo;id"}); st != 400 || !strings.Contains(string(b), "Governor must be one of: performance, powersave, ondemand, conservative, schedutil") {
		t.Errorf("bad governor: %d %s", st, b)
	}
	if len(rec.Calls()) != n {
		t.Errorf("invalid input reached the runner: %v", rec.Calls()[n:])
	}
	if st := e.JSON(http.MethodPost, "/api/system/cpu-governor", admin, map[string]string{"governor": "powersave"}, &out); st != 200 || out["success"] != false {
		t.Errorf("governor without cpupower: %d %v", st, out)
	}
	if st, _ := e.Do(http.MethodPost, "/api/system/cpu-governor", op, map[string]string{"governor": "powersave"}); st != 403 {
		t.Errorf("operator governor: %d", st)
	}
	if st, _ := e.Do(http.MethodPost, "/api/recovery/dns-flush", viewer, nil); st != 403 {
		t.Errorf("viewer recovery: %d", st)
	}
	var audit []map[string]any
	e.JSON(http.MethodGet, "/api/audit?limit=50", admin, nil, &audit)
	if a := fmt.Sprint(audit); !strings.Contains(a, "recovery_service_restart") || !strings.Contains(a, "service=nginx exit=1") {
		t.Errorf("audit: %s", a)
	}
}

func TestSitesBackupsUpdate(t *testing.T) {
	e := newEnv(t, runcmd.NewRecorded(nil))
	viewer, op, admin := e.Token("viewer"), e.Token("operator"), e.Token("admin")
	var sync map[string]any
	if st := e.JSON(http.MethodGet, "/api/sites/sync-status", viewer, nil, &sync); st != 200 || sync["message"] != "No site mapping configured" {
		t.Errorf("sync empty: %d %v", st, sync)
	}
	if _, err := e.Server.Settings.Update(map[string]any{"siteMap": map[string]any{"plex": "siteB", "pihole": "siteA"}}); err != nil {
		t.Fatal(err)
	}
	e.JSON(http.MethodGet, "/api/sites/sync-status", viewer, nil, &sync)
	svcs, _ := sync["services"].([]any)
	if len(svcs) != 2 || svcs[0].(map[string]any)["key"] != "pihole" || fmt.Sprint(svcs[1].(map[string]any)["sites"]) != "map[siteB:configured]" {
		t.Errorf("sync = %v", sync)
	}
	// 3-2-1 tracking: create, partial update, validation.
	var put map[string]any
	if st := e.JSON(http.MethodPut, "/api/backup/321-status", op, map[string]any{"backup_name": "photos", "copies": 3, "media_types": []string{"disk", "tape"}, "has_offsite": true}, &put); st != 200 || put["status"] != "ok" {
		t.Fatalf("put: %d %v", st, put)
	}
	if st := e.JSON(http.MethodPut, "/api/backup/321-status", op, map[string]any{"backup_name": "photos", "last_verified": 1790000000}, &put); st != 200 {
		t.Fatalf("patch: %d %v", st, put)
	}
	var list []map[string]any
	e.JSON(http.MethodGet, "/api/backup/321-status", viewer, nil, &list)
	if len(list) != 1 || list[0]["copies"] != 3.0 || list[0]["has_offsite"] != true || fmt.Sprint(list[0]["media_types"]) != "[disk tape]" || list[0]["last_verified"] != 1790000000.0 {
		t.Errorf("321 = %v", list)
	}
	for _, c := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"copies": 2}, "backup_name is required"},
		{map[string]any{"backup_name": "x", "copies": "three"}, "copies must be an integer"},
		{map[string]any{"backup_name": "x", "media_types": "disk"}, "media_types must be a list"},
		{map[string]any{"backup_name": "x", "has_offsite": "yes"}, "has_offsite must be true or false"},
	} {
		if st, b := e.Do(http.MethodPut, "/api/backup/321-status", op, c.body); st != 400 || !strings.Contains(string(b), c.msg) {
			t.Errorf("%v: %d %s", c.body, st, b)
		}
	}
	if st, _ := e.Do(http.MethodPut, "/api/backup/321-status", viewer, map[string]any{"backup_name": "x"}); st != 403 {
		t.Errorf("viewer put: %d", st)
	}
	// Verification requests are validated before any agent is asked.
	for _, c := range []struct {
		body map[string]any
		st   int
		msg  string
	}{
		{map[string]any{"path": "/srv/backup.tar"}, 400, "hostname is required"},
		{map[string]any{"hostname": "nas"}, 400, "path is required"},
		{map[string]any{"hostname": "nas", "path": "/srv/b.tar", "verification_type": "vibes"}, 400, "Invalid verification_type: vibes"},
		{map[string]any{"hostname": "nas", "path": "/srv/b.tar"}, 404, "Agent 'nas' not found"},
	} {
		if st, b := e.Do(http.MethodPost, "/api/backup/verify", op, c.body); st != c.st || !strings.Contains(string(b), c.msg) {
			t.Errorf("%v: %d %s", c.body, st, b)
		}
	}
	if st, b := e.Do(http.MethodGet, "/api/backup/verifications?limit=5", viewer, nil); st != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("verifications: %d %s", st, b)
	}
	// A binary install: the update check says how to update, apply refuses.
	var chk map[string]any
	if st := e.JSON(http.MethodGet, "/api/system/update/check", op, nil, &chk); st != 200 || chk["update_available"] != false || chk["current_version"] == "" || !strings.Contains(fmt.Sprint(chk["error"]), "NOBA_REPO_DIR") {
		t.Errorf("update check: %d %v", st, chk)
	}
	if st, _ := e.Do(http.MethodPost, "/api/system/update/apply", admin, nil); st != 400 {
		t.Errorf("update apply: %d", st)
	}
	if st, _ := e.Do(http.MethodPost, "/api/system/update/apply", op, nil); st != 403 {
		t.Errorf("operator apply: %d", st)
	}
}
