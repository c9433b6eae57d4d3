package backups

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// ---- NAS / cloud job state ----

// readState parses key=value lines (quotes stripped); nil when missing or empty.
func readState(p string) map[string]string {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(k)] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

var digits = regexp.MustCompile(`^\d+$`)

func intOrNil(s string) any {
	if !digits.MatchString(s) {
		return nil
	}
	var n int64
	_, _ = fmt.Sscan(s, &n)
	return n
}

type backupStatusOut struct {
	Body struct {
		NAS   map[string]any `json:"nas"`
		Cloud map[string]any `json:"cloud"`
	}
}

func (r *Room) states() (nas, cloud map[string]string) {
	return readState(r.stateFile("backup-to-nas.state")), readState(r.stateFile("cloud-backup.state"))
}

func (r *Room) status(ctx context.Context, _ *struct{}) (*backupStatusOut, error) {
	out := &backupStatusOut{}
	nas, cloud := r.states()
	if nas != nil {
		out.Body.NAS = map[string]any{"exit_code": intOrNil(nas["exit_code"]), "snapshot": nas["snapshot"],
			"duration": intOrNil(nas["duration"]), "failed_sources": nas["failed_sources"], "timestamp": nas["timestamp"]}
	}
	if cloud != nil {
		var code any
		switch s := strings.ToLower(cloud["LAST_STATUS"]); {
		case s == "":
		case s == "ok" || s == "success" || s == "0":
			code = 0
		default:
			code = 1
		}
		out.Body.Cloud = map[string]any{"exit_code": code, "snapshot": "", "duration": nil, "failed_sources": "",
			"timestamp": cloud["LAST_SYNC_TIME"], "size": cloud["LAST_SIZE"]}
	}
	return out, nil
}

type backupMessageOut struct {
	Body struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}
}

func orNA(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return "N/A"
}

func (r *Room) report(ctx context.Context, _ *struct{}) (*backupMessageOut, error) {
	nas, cloud := r.states()
	if nas == nil && cloud == nil {
		return nil, httpx.NotFound("No backup state found")
	}
	notif, _ := r.d.Settings.View()["notifications"].(map[string]any) // shared: read only
	ec, _ := notif["email"].(map[string]any)
	if en, _ := ec["enabled"].(bool); !en || r.d.Mailer == nil {
		return nil, httpx.Invalid("Email notifications not configured")
	}
	var b strings.Builder
	b.WriteString("NOBA Backup Report\n")
	if nas != nil {
		res := "FAILED"
		if nas["exit_code"] == "0" {
			res = "SUCCESS"
		}
		fmt.Fprintf(&b, "\nNAS Backup: %s\n  Snapshot: %s\n  Duration: %ss\n", res, orNA(nas, "snapshot"), orNA(nas, "duration"))
		if f := nas["failed_sources"]; f != "" {
			fmt.Fprintf(&b, "  Failed: %s\n", f)
		}
	}
	if cloud != nil {
		st, at := cloud["LAST_STATUS"], cloud["LAST_SYNC_TIME"]
		if st == "" {
			st = "N/A"
		}
		if at == "" {
			at = "N/A"
		}
		fmt.Fprintf(&b, "\nCloud Sync: %s\n  Last sync: %s\n", st, at)
	}
	if err := r.d.Mailer.SendEmail(ctx, "NOBA Backup Report", b.String()); err != nil {
		return nil, httpx.BadGateway("Sending the report failed: %v", err)
	}
	r.d.Audit.Record(ctx, "backup_report", authz.Must(ctx).Username, "Sent backup report email", httpx.ClientIP(ctx))
	out := &backupMessageOut{}
	out.Body.Status, out.Body.Message = "ok", "Report sent"
	return out, nil
}

// ---- explorer ----

// Snapshot is one entry of GET /api/backup/history.
type Snapshot struct {
	Name      string   `json:"name"`
	Timestamp string   `json:"timestamp"`
	MTime     int64    `json:"mtime"`
	ID        string   `json:"id,omitempty"`
	Paths     []string `json:"paths,omitempty"`
	Hostname  string   `json:"hostname,omitempty"`
}

type backupHistoryOut struct {
	Body struct {
		Snapshots []Snapshot `json:"snapshots"`
		Dest      string     `json:"dest"`
		Source    string     `json:"source"`
		Error     string     `json:"error,omitempty"`
	}
}

// srcErr maps source failures to the vocabulary.
func srcErr(err error) error {
	var re *resticError
	switch {
	case errors.Is(err, errNoSource):
		return httpx.NotFound("Backup destination not configured")
	case errors.Is(err, errResticMissing):
		return httpx.Unavailable("restic not installed")
	case errors.As(err, &re):
		return httpx.BadGateway("restic: %s", re.msg)
	}
	return err
}

func (r *Room) history(ctx context.Context, _ *struct{}) (*backupHistoryOut, error) {
	out := &backupHistoryOut{}
	out.Body.Snapshots = []Snapshot{}
	src, err := r.source()
	if err != nil {
		return out, nil
	}
	out.Body.Dest, out.Body.Source = src.where(), src.kind()
	ss, err := src.list(ctx)
	if err != nil {
		// The repository is configured but cannot be read: say why.
		var re *resticError
		if errors.As(err, &re) || errors.Is(err, errResticMissing) {
			out.Body.Error = err.Error()
			return out, nil
		}
		return nil, srcErr(err)
	}
	for i, s := range ss {
		if i == 200 {
			break
		}
		out.Body.Snapshots = append(out.Body.Snapshots, Snapshot{Name: s.Name, Timestamp: s.Time.Local().Format("2006-01-02T15:04:05"),
			MTime: s.Time.Unix(), ID: s.ID, Paths: s.Paths, Hostname: s.Hostname})
	}
	return out, nil
}

type browseIn struct {
	Name string `path:"name"`
	Path string `query:"path"`
}

// Entry is one row of a browsed directory.
type Entry struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"`
}

type browseOut struct{ Body map[string]any }

func (r *Room) browse(ctx context.Context, in *browseIn) (*browseOut, error) {
	src, err := r.source()
	if err != nil {
		return nil, srcErr(err)
	}
	p, ok := cleanRel(in.Path)
	if !ok || !src.validName(in.Name) {
		return nil, httpx.Invalid("Invalid snapshot or path")
	}
	self, kids, found, err := src.stat(ctx, in.Name, p)
	if errors.Is(err, errEscape) {
		return nil, httpx.Invalid("Invalid snapshot or path")
	}
	var ue *unreadableError
	if errors.As(err, &ue) {
		return nil, internalErr("Cannot read directory: %v", ue.err)
	}
	if err != nil {
		return nil, srcErr(err)
	}
	if !found {
		return nil, httpx.NotFound("Path not found")
	}
	if self.Type != "dir" {
		return &browseOut{Body: map[string]any{"type": "file", "name": self.Name, "size": self.Size, "mtime": self.MTime}}, nil
	}
	sort.Slice(kids, func(i, j int) bool {
		if (kids[i].Type == "dir") != (kids[j].Type == "dir") {
			return kids[i].Type == "dir"
		}
		return kids[i].Name < kids[j].Name
	})
	if len(kids) > 2000 {
		kids = kids[:2000]
	}
	entries := make([]Entry, 0, len(kids))
	for _, k := range kids {
		t := "file"
		size := k.Size
		if k.Type == "dir" {
			t, size = "dir", 0
		}
		entries = append(entries, Entry{Name: k.Name, Type: t, Size: size, MTime: k.MTime})
	}
	shown := in.Path
	if shown == "" {
		shown = "/"
	}
	return &browseOut{Body: map[string]any{"type": "dir", "path": shown, "entries": entries}}, nil
}

type diffIn struct {
	A    string `query:"a"`
	B    string `query:"b"`
	Path string `query:"path"`
}

type backupDiffOut struct {
	Body struct {
		A              string   `json:"a"`
		B              string   `json:"b"`
		Path           string   `json:"path"`
		Added          []string `json:"added"`
		Removed        []string `json:"removed"`
		Changed        []string `json:"changed"`
		UnchangedCount int      `json:"unchanged_count"`
	}
}

func (r *Room) diff(ctx context.Context, in *diffIn) (*backupDiffOut, error) {
	src, err := r.source()
	if err != nil {
		return nil, srcErr(err)
	}
	p, ok := cleanRel(in.Path)
	if !ok || !src.validName(in.A) || !src.validName(in.B) {
		return nil, httpx.Invalid("Invalid snapshot names")
	}
	for _, s := range []string{in.A, in.B} {
		self, _, found, err := src.stat(ctx, s, p)
		if errors.Is(err, errEscape) {
			return nil, httpx.Invalid("Invalid snapshot names")
		}
		if err != nil {
			var re *resticError
			if errors.As(err, &re) {
				return nil, httpx.NotFound("Snapshot path not found")
			}
			return nil, srcErr(err)
		}
		if !found || self.Type != "dir" {
			return nil, httpx.NotFound("Snapshot path not found")
		}
	}
	added, removed, changed, same, err := src.diff(ctx, in.A, in.B, p)
	if errors.Is(err, errSnapshotPath) {
		return nil, httpx.NotFound("Snapshot path not found")
	}
	if err != nil {
		return nil, srcErr(err)
	}
	out := &backupDiffOut{}
	out.Body.A, out.Body.B, out.Body.Path = in.A, in.B, in.Path
	if out.Body.Path == "" {
		out.Body.Path = "/"
	}
	out.Body.Added, out.Body.Removed, out.Body.Changed, out.Body.UnchangedCount = added, removed, changed, same
	return out, nil
}

type versionsIn struct {
	Path string `query:"path"`
}

// Version is one snapshot's copy of a file.
type Version struct {
	Snapshot string `json:"snapshot"`
	Size     int64  `json:"size"`
	MTime    int64  `json:"mtime"`
	Inode    uint64 `json:"inode"`
	Unique   bool   `json:"unique"`
}

type backupVersionsOut struct {
	Body struct {
		Path     string    `json:"path"`
		Versions []Version `json:"versions"`
	}
}

func (r *Room) fileVersions(ctx context.Context, in *versionsIn) (*backupVersionsOut, error) {
	if strings.TrimSpace(in.Path) == "" {
		return nil, httpx.Invalid("File path required")
	}
	src, err := r.source()
	if err != nil {
		return nil, srcErr(err)
	}
	p, ok := cleanRel(in.Path)
	if !ok {
		return nil, httpx.Invalid("Invalid snapshot or path")
	}
	ss, err := src.list(ctx)
	if err != nil {
		return nil, internalErr("Error scanning versions: %v", err)
	}
	out := &backupVersionsOut{}
	out.Body.Path, out.Body.Versions = in.Path, []Version{}
	seen := map[string]bool{}
	for _, s := range ss {
		if len(out.Body.Versions) == 100 {
			break
		}
		self, _, found, err := src.stat(ctx, s.Name, p)
		if errors.Is(err, errEscape) || !found || self.Type != "file" {
			continue
		}
		if err != nil {
			return nil, internalErr("Error scanning versions: %v", err)
		}
		// A version is unique when no newer snapshot holds the same copy:
		// the same inode (hard-linked snapshots) or the same size and mtime.
		key := fmt.Sprintf("%d/%d", self.Size, self.MTime)
		if _, isDir := src.(*dirSource); isDir {
			key = fmt.Sprintf("i%d", self.Inode)
		}
		out.Body.Versions = append(out.Body.Versions, Version{Snapshot: s.Name, Size: self.Size, MTime: self.MTime, Inode: self.Inode, Unique: !seen[key]})
		seen[key] = true
	}
	return out, nil
}

// ---- restore ----

var protected = []string{"/etc", "/usr", "/bin", "/sbin", "/boot", "/proc", "/sys", "/dev", "/root", "/run", "/var/run", "/lib", "/lib64"}

type backupRestoreIn struct {
	Body struct {
		Snapshot string `json:"snapshot"`
		Path     string `json:"path"`
		Dest     string `json:"dest,omitempty"`
	}
}

type backupRestoreOut struct {
	Body struct {
		Status     string `json:"status"`
		RestoredTo string `json:"restored_to"`
	}
}

// realTarget resolves the deepest existing ancestor of p through symlinks.
func realTarget(p string) string {
	p = filepath.Clean(p)
	rest := ""
	for cur := p; ; cur = filepath.Dir(cur) {
		if real, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(real, rest)
		}
		if cur == filepath.Dir(cur) {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
	}
}

// restoreRoots are where a restore may write: the backup sources and
// <data dir>/restores (spec 10 §13 S12).
func (r *Room) restoreRoots() []string {
	roots := []string{realTarget(filepath.Join(r.d.DataDir, "restores"))}
	for _, v := range r.d.Settings.Current().BackupSources {
		if s, _ := v.(string); filepath.IsAbs(s) {
			roots = append(roots, realTarget(s))
		}
	}
	return roots
}

// original is where the file came from: restic paths are the source
// paths; a snapshot directory's top component names a backup source.
func (r *Room) original(src source, p string) string {
	if _, ok := src.(*resticSource); ok {
		return p
	}
	rel := strings.TrimPrefix(p, "/")
	top, rest, _ := strings.Cut(rel, "/")
	for _, v := range r.d.Settings.Current().BackupSources {
		s, _ := v.(string)
		if s != "" && strings.TrimLeft(filepath.Base(s), ".") == top {
			return filepath.Join(s, rest)
		}
	}
	return ""
}

func (r *Room) restore(ctx context.Context, in *backupRestoreIn) (*backupRestoreOut, error) {
	src, err := r.source()
	if err != nil {
		return nil, srcErr(err)
	}
	b := in.Body
	p, ok := cleanRel(b.Path)
	if !ok || p == "/" || !src.validName(b.Snapshot) {
		return nil, httpx.Invalid("Invalid snapshot or file path")
	}
	self, _, found, err := src.stat(ctx, b.Snapshot, p)
	if errors.Is(err, errEscape) || (err == nil && !found) {
		return nil, httpx.Invalid("Invalid snapshot or file path")
	}
	if err != nil {
		return nil, srcErr(err)
	}
	if self.Type != "file" {
		return nil, httpx.Invalid("Can only restore individual files")
	}
	target := strings.TrimSpace(b.Dest)
	if target == "" {
		target = r.original(src, p)
	}
	if target == "" {
		return nil, httpx.Invalid("Cannot determine original path -- provide 'dest' in request body")
	}
	if !filepath.IsAbs(target) {
		return nil, httpx.Invalid("dest must be an absolute path")
	}
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		target = filepath.Join(target, self.Name)
	}
	real := realTarget(target)
	for _, sys := range protected {
		if within(sys, real) {
			return nil, httpx.Forbidden("Restore destination is in a protected system path")
		}
	}
	allowed := false
	for _, root := range r.restoreRoots() {
		if within(root, real) {
			allowed = true
		}
	}
	if !allowed {
		return nil, httpx.Forbidden("Restore destination must be inside a backup source or %s", filepath.Join(r.d.DataDir, "restores"))
	}
	if err := r.writeRestored(ctx, src, b.Snapshot, p, real, self); err != nil {
		return nil, internalErr("Restore failed: %v", err)
	}
	r.d.Audit.Record(ctx, "backup_restore", authz.Must(ctx).Username, fmt.Sprintf("Restored %s from %s to %s", b.Path, b.Snapshot, real), httpx.ClientIP(ctx))
	out := &backupRestoreOut{}
	out.Body.Status, out.Body.RestoredTo = "ok", real
	return out, nil
}

// writeRestored writes the file atomically (temp file, fsync, rename) with
// the snapshot's mode and mtime.
func (r *Room) writeRestored(ctx context.Context, src source, snap, p, target string, e entry) error {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".restore-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := src.copyTo(ctx, snap, p, tmp); err != nil {
		tmp.Close()
		return err
	}
	mode := e.Mode
	if mode == 0 {
		mode = 0o644
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	mt := timeUnix(e.MTime)
	return os.Chtimes(target, mt, mt)
}

// ---- restic status ----

type resticOut struct{ Body map[string]any }

func (r *Room) resticStatus(ctx context.Context, _ *struct{}) (*resticOut, error) {
	x, ok := r.restic()
	if !ok {
		return &resticOut{Body: map[string]any{"configured": false}}, nil
	}
	ss, err := x.snapshots(ctx, "--latest", "5")
	if err != nil {
		return &resticOut{Body: map[string]any{"configured": true, "error": err.Error()}}, nil
	}
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].Time.After(ss[j].Time) })
	list := make([]map[string]any, 0, len(ss))
	for _, s := range ss {
		paths := s.Paths
		if paths == nil {
			paths = []string{}
		}
		list = append(list, map[string]any{"id": s.ShortID, "time": s.Time.Format("2006-01-02T15:04:05Z07:00"), "hostname": s.Hostname, "paths": paths})
	}
	return &resticOut{Body: map[string]any{"configured": true, "snapshots": list}}, nil
}

// ---- schedules and progress (automations) ----

var scheduleScripts = map[string]bool{"backup": true, "cloud": true, "verify": true}

type schedulesOut struct{ Body []map[string]any }

func (r *Room) schedules(ctx context.Context, _ *struct{}) (*schedulesOut, error) {
	out := []map[string]any{}
	if r.d.Automations == nil {
		return &schedulesOut{Body: out}, nil
	}
	all, err := r.d.Automations.ListAutomations(ctx)
	if errors.Is(err, ErrNoAutomations) {
		return &schedulesOut{Body: out}, nil
	}
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		cfg, _ := a["config"].(map[string]any)
		script, _ := cfg["script"].(string)
		if a["type"] == "script" && scheduleScripts[script] {
			out = append(out, a)
		}
	}
	return &schedulesOut{Body: out}, nil
}

type backupScheduleIn struct {
	Body struct {
		Type     string `json:"type,omitempty"`
		Schedule string `json:"schedule,omitempty"`
		Name     string `json:"name,omitempty"`
	}
}

type backupScheduleOut struct {
	Body struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
}

var cronRe = regexp.MustCompile(`^\S+(\s+\S+){4}$`)

func (r *Room) createSchedule(ctx context.Context, in *backupScheduleIn) (*backupScheduleOut, error) {
	b := in.Body
	if b.Type == "" {
		b.Type = "backup"
	}
	if !scheduleScripts[b.Type] {
		return nil, httpx.Invalid("Type must be backup, cloud, or verify")
	}
	if b.Schedule == "" {
		b.Schedule = "0 3 * * *"
	}
	if !cronRe.MatchString(strings.TrimSpace(b.Schedule)) {
		return nil, httpx.Invalid("schedule must be a 5-field cron expression, e.g. 0 3 * * *")
	}
	if b.Name == "" {
		b.Name = "Scheduled " + b.Type
	}
	if r.d.Automations == nil {
		return nil, httpx.NotFound("Automations are not available on this server")
	}
	id, err := r.d.Automations.CreateAutomation(ctx, b.Name, "script", map[string]any{"script": b.Type, "args": "--verbose"}, strings.TrimSpace(b.Schedule))
	if err != nil {
		if errors.Is(err, ErrNoAutomations) {
			return nil, httpx.NotFound("Automations are not available on this server")
		}
		var he *httpx.Error
		if errors.As(err, &he) {
			return nil, err
		}
		return nil, fmt.Errorf("create backup schedule: %w", err)
	}
	r.d.Audit.Record(ctx, "backup_schedule", authz.Must(ctx).Username, fmt.Sprintf("Created %s schedule: %s", b.Type, b.Schedule), httpx.ClientIP(ctx))
	out := &backupScheduleOut{}
	out.Body.ID, out.Body.Status = id, "ok"
	return out, nil
}

type backupProgressOut struct {
	Body struct {
		Running bool  `json:"running"`
		Jobs    []Run `json:"jobs,omitempty"`
	}
}

func (r *Room) progress(ctx context.Context, _ *struct{}) (*backupProgressOut, error) {
	out := &backupProgressOut{}
	if r.d.Automations == nil {
		return out, nil
	}
	runs, err := r.d.Automations.ActiveRuns(ctx)
	if errors.Is(err, ErrNoAutomations) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	// Manual (script:backup…) and scheduled (schedule:…backup) runs (§13 F18).
	for _, x := range runs {
		if strings.HasPrefix(x.Trigger, "script:backup") || strings.HasPrefix(x.Trigger, "schedule:") && strings.Contains(x.Trigger, "backup") {
			out.Body.Jobs = append(out.Body.Jobs, x)
		}
	}
	out.Body.Running = len(out.Body.Jobs) > 0
	if !out.Body.Running {
		out.Body.Jobs = nil
	}
	return out, nil
}

// ---- destination health ----

type healthOut struct{ Body map[string]any }

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func (r *Room) health(ctx context.Context, _ *struct{}) (*healthOut, error) {
	bad := &healthOut{Body: map[string]any{"accessible": false, "error": "Destination not configured or not accessible"}}
	dest := r.d.Settings.Current().BackupDest
	if dest == "" {
		if x, ok := r.restic(); ok && filepath.IsAbs(x.repo) {
			dest = x.repo // a local restic repository
		}
	}
	if dest == "" {
		return bad, nil
	}
	if fi, err := os.Stat(dest); err != nil || !fi.IsDir() {
		return bad, nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dest, &st); err != nil {
		return &healthOut{Body: map[string]any{"accessible": false, "error": err.Error()}}, nil
	}
	const gib = 1 << 30
	total := float64(st.Blocks) * float64(st.Bsize)
	free := float64(st.Bavail) * float64(st.Bsize)
	used := total - float64(st.Bfree)*float64(st.Bsize)
	pct := 0.0
	if total > 0 {
		pct = round1(used / total * 100)
	}
	count := 0
	if src, err := r.source(); err == nil {
		if ss, err := src.list(ctx); err == nil {
			count = len(ss)
		}
	}
	return &healthOut{Body: map[string]any{"accessible": true, "path": dest, "total_gb": round1(total / gib), "used_gb": round1(used / gib),
		"free_gb": round1(free / gib), "percent_used": pct, "snapshot_count": count}}, nil
}

// internalErr is a 500 whose message the user can act on (spec wording).
func internalErr(format string, args ...any) error {
	return httpx.NewBody(http.StatusInternalServerError, fmt.Sprintf(format, args...))
}

func timeUnix(s int64) time.Time { return time.Unix(s, 0) }
