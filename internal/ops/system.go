package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/runcmd"
)

// opsRecoveryOut is the shape of the recovery actions.
type opsRecoveryOut struct {
	Body struct {
		Status  string `json:"status"`
		Service string `json:"service,omitempty"`
		Output  string `json:"output,omitempty"`
		Error   string `json:"error,omitempty"`
	}
}

func recovery(res runcmd.Result, err error) *opsRecoveryOut {
	out := &opsRecoveryOut{}
	if err != nil {
		out.Body.Status, out.Body.Error = "error", "Operation failed"
		if errors.Is(err, runcmd.ErrNotFound) {
			out.Body.Error = "Operation failed: the tool is not installed on this host"
		} else if errors.Is(err, runcmd.ErrTimeout) {
			out.Body.Error = "Operation failed: timed out"
		}
		return out
	}
	out.Body.Status = "ok"
	if res.ExitCode != 0 {
		out.Body.Status = "error"
	}
	out.Body.Output = runcmd.Head(strings.TrimSpace(res.Stdout), 500)
	out.Body.Error = runcmd.Head(strings.TrimSpace(ansiRe.ReplaceAllString(res.Stderr, "")), 500)
	return out
}

func exitOf(res runcmd.Result, err error) int {
	if err != nil {
		return -1
	}
	return res.ExitCode
}

func (r *Room) tailscale(ctx context.Context, _ *struct{}) (*opsRecoveryOut, error) {
	c := r.privileged("tailscale", "up")
	c.Timeout = 15 * time.Second
	res, err := r.d.Runner.Run(ctx, c)
	r.audit(ctx, "recovery_tailscale", fmt.Sprintf("exit=%d", exitOf(res, err)))
	return recovery(res, err), nil
}

func (r *Room) restartCmd(svc string, timeout time.Duration) runcmd.Cmd {
	c := r.privileged("systemctl", "--no-ask-password", "restart", "--", svc)
	c.Timeout = timeout
	return c
}

func (r *Room) dnsFlush(ctx context.Context, _ *struct{}) (*opsRecoveryOut, error) {
	svc := r.typed().DnsService
	if svc = strings.TrimSpace(svc); svc == "" {
		svc = "pihole-FTL"
	}
	if !ValidUnit(svc) {
		out := &opsRecoveryOut{}
		out.Body.Status, out.Body.Error = "error", fmt.Sprintf("Invalid dnsService name in config: '%s'", svc)
		return out, nil
	}
	res, err := r.d.Runner.Run(ctx, r.restartCmd(svc, 15*time.Second))
	r.audit(ctx, "recovery_dns_flush", fmt.Sprintf("exit=%d", exitOf(res, err)))
	return recovery(res, err), nil
}

type opsServiceIn struct {
	Body struct {
		Service string `json:"service"`
	}
}

func (r *Room) serviceRestart(ctx context.Context, in *opsServiceIn) (*opsRecoveryOut, error) {
	svc := strings.TrimSpace(in.Body.Service)
	if !ValidUnit(svc) {
		return nil, httpx.Invalid("Invalid service name")
	}
	res, err := r.d.Runner.Run(ctx, r.restartCmd(svc, 30*time.Second))
	r.audit(ctx, "recovery_service_restart", fmt.Sprintf("service=%s exit=%d", svc, exitOf(res, err)))
	out := recovery(res, err)
	out.Body.Service = svc
	return out, nil
}

// SiteService is one service of the site map.
type SiteService struct {
	Key    string            `json:"key"`
	Sites  map[string]string `json:"sites"`
	Online bool              `json:"online"`
}

type opsSyncOut struct {
	Body struct {
		Services []SiteService `json:"services"`
		Message  string        `json:"message,omitempty"`
	}
}

func (r *Room) syncStatus(ctx context.Context, _ *struct{}) (*opsSyncOut, error) {
	out := &opsSyncOut{}
	out.Body.Services = []SiteService{}
	m, _ := r.settings()["siteMap"].(map[string]any)
	if len(m) == 0 {
		out.Body.Message = "No site mapping configured"
		return out, nil
	}
	var snap map[string]any
	if r.d.Stats != nil {
		if t := r.d.Stats.Snapshot(); t != nil {
			snap = t.Payload
		}
	}
	for key, v := range m {
		site := fmt.Sprint(v)
		s := SiteService{Key: key, Sites: map[string]string{site: "configured"}}
		if blk, ok := snap[key]; ok && blk != nil {
			if mm, isMap := blk.(map[string]any); !isMap || len(mm) > 0 {
				s.Online = true
			}
		}
		out.Body.Services = append(out.Body.Services, s)
	}
	sort.Slice(out.Body.Services, func(i, j int) bool { return out.Body.Services[i].Key < out.Body.Services[j].Key })
	return out, nil
}

type opsSmartOut struct{ Body []map[string]any }

var diskPrefixes = []string{"sd", "hd", "nvme", "vd"}

func (r *Room) smart(ctx context.Context, _ *struct{}) (*opsSmartOut, error) {
	r.smartMu.Lock()
	defer r.smartMu.Unlock()
	if r.smartRes != nil && r.d.Now().Sub(r.smartAt) < 300*time.Second {
		return &opsSmartOut{Body: r.smartRes}, nil
	}
	ents, _ := os.ReadDir(filepath.Join(r.d.Root, "/sys/block"))
	var devs []string
	for _, e := range ents {
		for _, p := range diskPrefixes {
			if strings.HasPrefix(e.Name(), p) {
				devs = append(devs, "/dev/"+e.Name())
				break
			}
		}
	}
	sort.Strings(devs)
	out := []map[string]any{}
	for _, dev := range devs {
		c := r.privileged("smartctl", "-a", "-j", dev)
		c.Timeout = 10 * time.Second
		res, err := r.d.Runner.Run(ctx, c)
		if errors.Is(err, runcmd.ErrNotFound) {
			break
		}
		if errors.Is(err, runcmd.ErrTimeout) {
			out = append(out, map[string]any{"device": dev, "error": "timeout"})
			continue
		}
		if err != nil {
			out = append(out, map[string]any{"device": dev, "error": err.Error()})
			continue
		}
		out = append(out, ParseSmart(dev, []byte(res.Stdout), res.ExitCode, res.Stderr))
	}
	r.smartRes, r.smartAt = out, r.d.Now()
	return &opsSmartOut{Body: out}, nil
}

// ParseSmart maps smartctl -a -j output to the reference entry. smartctl's
// exit status is a bitmask (bit 0 = command line, 1 = device open failed,
// 2 = SMART command failed, higher bits = disk state), so the JSON is used
// whenever it holds device data.
func ParseSmart(dev string, js []byte, exit int, stderr string) map[string]any {
	var d struct {
		ModelName    string `json:"model_name"`
		ModelFamily  string `json:"model_family"`
		SerialNumber string `json:"serial_number"`
		UserCapacity struct {
			Bytes int64 `json:"bytes"`
		} `json:"user_capacity"`
		SmartStatus *struct {
			Passed bool `json:"passed"`
		} `json:"smart_status"`
		Temperature struct {
			Current *float64 `json:"current"`
		} `json:"temperature"`
		PowerOnTime struct {
			Hours *float64 `json:"hours"`
		} `json:"power_on_time"`
		ATA struct {
			Table []struct {
				ID    int     `json:"id"`
				Value float64 `json:"value"`
				Raw   struct {
					Value float64 `json:"value"`
				} `json:"raw"`
			} `json:"table"`
		} `json:"ata_smart_attributes"`
		NVMe *struct {
			Temperature    *float64 `json:"temperature"`
			AvailableSpare *float64 `json:"available_spare"`
			PercentageUsed *float64 `json:"percentage_used"`
			PowerOnHours   *float64 `json:"power_on_hours"`
		} `json:"nvme_smart_health_information_log"`
		Smartctl struct {
			Messages []struct {
				String string `json:"string"`
			} `json:"messages"`
		} `json:"smartctl"`
	}
	if err := json.Unmarshal(js, &d); err != nil {
		msg := strings.TrimSpace(stderr)
		if msg == "" {
			msg = fmt.Sprintf("smartctl exit %d", exit)
		}
		return map[string]any{"device": dev, "error": runcmd.Head(msg, 300)}
	}
	if d.ModelName == "" && d.ModelFamily == "" && d.SerialNumber == "" && exit&0x3 != 0 {
		msg := fmt.Sprintf("smartctl exit %d", exit)
		if len(d.Smartctl.Messages) > 0 {
			msg = d.Smartctl.Messages[0].String
		}
		return map[string]any{"device": dev, "error": msg}
	}
	model := d.ModelName
	if model == "" {
		model = d.ModelFamily
	}
	ok := true
	if d.SmartStatus != nil {
		ok = d.SmartStatus.Passed
	}
	attrs := map[string]any{}
	var temp, hours any
	if d.Temperature.Current != nil {
		temp = *d.Temperature.Current
	}
	if d.PowerOnTime.Hours != nil {
		hours = *d.PowerOnTime.Hours
	}
	num := func(k string) float64 { f, _ := attrs[k].(float64); return f }
	for _, a := range d.ATA.Table {
		switch a.ID {
		case 5:
			attrs["reallocated_sectors"] = a.Raw.Value
		case 9:
			hours = a.Raw.Value
		case 177:
			attrs["wear_leveling_count"] = a.Value
		case 194:
			if temp == nil {
				temp = float64(int64(a.Raw.Value) & 0xff)
			}
		case 197:
			attrs["pending_sectors"] = a.Raw.Value
		case 198:
			attrs["uncorrectable_sectors"] = a.Raw.Value
		case 231:
			attrs["ssd_life_left_pct"] = a.Value
		case 233:
			attrs["nand_writes_gb"] = a.Raw.Value
		}
	}
	if n := d.NVMe; n != nil {
		if temp == nil && n.Temperature != nil {
			temp = *n.Temperature
		}
		if n.AvailableSpare != nil {
			attrs["available_spare_pct"] = *n.AvailableSpare
		}
		if n.PercentageUsed != nil {
			attrs["percentage_used"] = *n.PercentageUsed
		}
		if hours == nil && n.PowerOnHours != nil {
			hours = *n.PowerOnHours
		}
	}
	risk := 0
	bump := func(v int) { risk = max(risk, v) }
	if !ok {
		bump(100)
	}
	if num("uncorrectable_sectors") > 0 {
		bump(75)
	}
	if num("reallocated_sectors") > 0 {
		bump(60)
	}
	if num("pending_sectors") > 0 {
		bump(50)
	}
	if num("percentage_used") > 90 {
		bump(50)
	}
	if v, has := attrs["available_spare_pct"].(float64); has && v < 10 {
		bump(50)
	}
	if t, has := temp.(float64); has && t > 55 {
		bump(40)
	}
	return map[string]any{"device": dev, "model": model, "serial": d.SerialNumber, "capacity_bytes": d.UserCapacity.Bytes,
		"smart_ok": ok, "temp_c": temp, "power_on_hours": hours, "risk_score": risk, "attributes": attrs}
}

type opsJournalIn struct {
	Unit     string `query:"unit"`
	Priority string `query:"priority"`
	Lines    string `query:"lines"`
	Since    string `query:"since"`
	Grep     string `query:"grep"`
}

type opsOpsTextOut struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

func textOut(s string) *opsOpsTextOut {
	return &opsOpsTextOut{ContentType: "text/plain; charset=utf-8", Body: []byte(s)}
}

var (
	sinceRe     = regexp.MustCompile(`^\d+\s*(min|hour|day|sec)\s*ago$`)
	nestedQuant = regexp.MustCompile(`\([^)]*[+*][^)]*\)[+*]`)
	priorities  = map[string]bool{"emerg": true, "alert": true, "crit": true, "err": true, "warning": true, "notice": true, "info": true, "debug": true,
		"0": true, "1": true, "2": true, "3": true, "4": true, "5": true, "6": true, "7": true}
)

func (r *Room) journal(ctx context.Context, in *opsJournalIn) (*opsOpsTextOut, error) {
	lines, err := httpx.IntParam("lines", in.Lines, 50, 1, 500)
	if err != nil {
		return nil, err
	}
	args := []string{"--no-pager", "-n", fmt.Sprint(lines), "--output", "short-iso"}
	if in.Unit != "" {
		if !ValidUnit(in.Unit) {
			return nil, httpx.Invalid("Invalid unit name")
		}
		args = append(args, "-u", in.Unit)
	}
	if priorities[in.Priority] {
		args = append(args, "-p", in.Priority)
	}
	if sinceRe.MatchString(in.Since) {
		args = append(args, "--since", in.Since)
	}
	if in.Grep != "" {
		g := runcmd.Head(in.Grep, 100)
		if nestedQuant.MatchString(g) {
			return nil, httpx.Invalid("Unsafe regex pattern")
		}
		if _, err := regexp.Compile(g); err != nil || strings.ContainsAny(g, "\n\r\x00") {
			return nil, httpx.Invalid("Invalid regex pattern")
		}
		args = append(args, "-g", g)
	}
	res, err := r.d.Runner.Run(ctx, runcmd.Cmd{Name: "journalctl", Args: args, Timeout: 10 * time.Second})
	switch {
	case errors.Is(err, runcmd.ErrNotFound):
		return textOut("journalctl not available"), nil
	case errors.Is(err, runcmd.ErrTimeout):
		return nil, httpx.NewBody(504, "Journal query timed out")
	case err != nil:
		return nil, err
	}
	s := runcmd.Tail(res.Stdout, 65536)
	if strings.TrimSpace(s) == "" || strings.TrimSpace(s) == "-- No entries --" {
		s = "No entries."
		if msg := strings.TrimSpace(res.Stderr); msg != "" && res.ExitCode != 0 {
			s = "No entries. (" + runcmd.Head(msg, 200) + ")"
		}
	}
	return textOut(s), nil
}

// Unit is one systemd service unit.
type Unit struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

type opsUnitsOut struct{ Body []Unit }

func (r *Room) journalUnits(ctx context.Context, _ *struct{}) (*opsUnitsOut, error) {
	out := &opsUnitsOut{Body: []Unit{}}
	res, err := r.d.Runner.Run(ctx, runcmd.Cmd{Name: "systemctl",
		Args: []string{"list-units", "--type=service", "--no-pager", "--plain", "--no-legend"}, Timeout: 5 * time.Second})
	if err != nil || res.ExitCode != 0 {
		return out, nil
	}
	out.Body = ParseUnits(res.Stdout)
	return out, nil
}

// ParseUnits parses systemctl list-units --plain --no-legend output:
// UNIT LOAD ACTIVE SUB DESCRIPTION.
func ParseUnits(s string) []Unit {
	out := []Unit{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(strings.TrimLeft(line, "●* "))
		if len(f) < 4 || !ValidUnit(f[0]) {
			continue
		}
		out = append(out, Unit{Name: f[0], Status: f[3]})
		if len(out) >= 200 {
			break
		}
	}
	return out
}

var governors = []string{"performance", "powersave", "ondemand", "conservative", "schedutil"}

type opsGovernorIn struct {
	Body struct {
		Governor string `json:"governor"`
	}
}

type opsGovernorOut struct {
	Body struct {
		Success bool   `json:"success"`
		Error   string `json:"error,omitempty"`
	}
}

func (r *Room) cpuGovernor(ctx context.Context, in *opsGovernorIn) (*opsGovernorOut, error) {
	g := strings.TrimSpace(in.Body.Governor)
	valid := false
	for _, v := range governors {
		valid = valid || v == g
	}
	if !valid {
		return nil, httpx.Invalid("Governor must be one of: %s", strings.Join(governors, ", "))
	}
	c := r.privileged("cpupower", "frequency-set", "-g", g)
	c.Timeout = 10 * time.Second
	res, err := r.d.Runner.Run(ctx, c)
	ok := err == nil && res.ExitCode == 0
	r.audit(ctx, "cpu_governor", fmt.Sprintf("Set %s -> %t", g, ok))
	out := &opsGovernorOut{}
	out.Body.Success = ok
	switch {
	case errors.Is(err, runcmd.ErrNotFound):
		out.Body.Error = "cpupower is not installed on this host"
	case err != nil:
		out.Body.Error = "cpupower failed"
	case !ok:
		out.Body.Error = runcmd.Head(strings.TrimSpace(res.Stderr), 300)
	}
	return out, nil
}

type opsUpdateCheckOut struct{ Body map[string]any }

func (r *Room) repo() string {
	if r.d.RepoDir == "" {
		return ""
	}
	if st, err := os.Stat(filepath.Join(r.d.RepoDir, ".git")); err != nil || !st.IsDir() {
		return ""
	}
	return r.d.RepoDir
}

func (r *Room) git(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	res, err := r.d.Runner.Run(ctx, runcmd.Cmd{Name: "git", Args: append([]string{"-C", r.repo()}, args...), Timeout: timeout})
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("git %s: %s", args[0], runcmd.Head(strings.TrimSpace(res.Stderr), 300))
	}
	return strings.TrimSpace(res.Stdout), nil
}

const noRepo = "Self-update needs a git checkout (set NOBA_REPO_DIR); binary installs update by replacing the binary with a new release."

func (r *Room) updateCheck(ctx context.Context, _ *struct{}) (*opsUpdateCheckOut, error) {
	out := map[string]any{"update_available": false, "current_version": r.d.Version}
	if r.repo() == "" {
		out["error"] = noRepo
		return &opsUpdateCheckOut{Body: out}, nil
	}
	out["repo_dir"] = r.repo()
	branch, err := r.git(ctx, 5*time.Second, "rev-parse", "--abbrev-ref", "HEAD")
	if err == nil {
		out["branch"] = branch
		if _, err = r.git(ctx, 15*time.Second, "fetch", "--quiet", "origin"); err == nil {
			var n string
			if n, err = r.git(ctx, 5*time.Second, "rev-list", "--count", "HEAD..origin/"+branch); err == nil {
				behind := 0
				_, _ = fmt.Sscan(n, &behind)
				out["commits_behind"], out["update_available"] = behind, behind > 0
				log, _ := r.git(ctx, 5*time.Second, "log", "--oneline", "-n", "20", "HEAD..origin/"+branch)
				changes := []string{}
				for _, l := range strings.Split(log, "\n") {
					if l = strings.TrimSpace(l); l != "" {
						changes = append(changes, l)
					}
				}
				out["changelog"] = changes
			}
		}
	}
	if err != nil {
		out["error"] = err.Error()
	}
	return &opsUpdateCheckOut{Body: out}, nil
}

type opsUpdateApplyOut struct {
	Body struct {
		Status  string           `json:"status"`
		Message string           `json:"message"`
		Steps   []map[string]any `json:"steps"`
	}
}

func (r *Room) updateApply(ctx context.Context, _ *struct{}) (*opsUpdateApplyOut, error) {
	if r.repo() == "" {
		return nil, httpx.Invalid("%s", noRepo)
	}
	res, err := r.d.Runner.Run(ctx, runcmd.Cmd{Name: "git", Args: []string{"-C", r.repo(), "pull", "--ff-only", "origin"}, Timeout: 60 * time.Second})
	step := map[string]any{"step": "git pull", "success": err == nil && res.ExitCode == 0,
		"output": runcmd.Head(strings.TrimSpace(res.Stdout+"\n"+res.Stderr), 500)}
	r.audit(ctx, "system_update", fmt.Sprintf("git pull -> %v", step["success"]))
	if errors.Is(err, runcmd.ErrTimeout) {
		return nil, httpx.NewBody(500, "Update step timed out")
	}
	if step["success"] != true {
		return nil, httpx.NewBody(500, "Update failed — check server logs")
	}
	out := &opsUpdateApplyOut{}
	out.Body.Status = "ok"
	out.Body.Message = "Update pulled. Rebuild (make build) and restart the service to run it."
	out.Body.Steps = []map[string]any{step}
	return out, nil
}
