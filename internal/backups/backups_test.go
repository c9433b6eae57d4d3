package backups_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

const resticPW = "repo-pass-1"

// resticRun runs the real restic against repo.
func resticRun(t *testing.T, repo string, args ...string) string {
	t.Helper()
	c := exec.Command("restic", append([]string{"-q", "--cache-dir", filepath.Join(filepath.Dir(repo), "cache")}, args...)...)
	c.Env = append(os.Environ(), "RESTIC_REPOSITORY="+repo, "RESTIC_PASSWORD="+resticPW)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		t.Fatalf("restic %v: %v %s", args, err, errb.String())
	}
	return out.String()
}

func write(t *testing.T, p, s string, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

type snapshot struct {
	Name      string   `json:"name"`
	Timestamp string   `json:"timestamp"`
	MTime     int64    `json:"mtime"`
	ID        string   `json:"id"`
	Paths     []string `json:"paths"`
}

type browsed struct {
	Type    string `json:"type"`
	Path    string `json:"path"`
	Name    string `json:"name"`
	Size    int64  `json:"size"`
	Entries []struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Size  int64  `json:"size"`
		MTime int64  `json:"mtime"`
	} `json:"entries"`
}

type diffed struct {
	A, B, Path              string
	Added, Removed, Changed []string
	UnchangedCount          int `json:"unchanged_count"`
}

type versions struct {
	Path     string `json:"path"`
	Versions []struct {
		Snapshot string `json:"snapshot"`
		Size     int64  `json:"size"`
		MTime    int64  `json:"mtime"`
		Unique   bool   `json:"unique"`
	} `json:"versions"`
}

type errBody struct{ Error, Detail string }

func TestResticExplorer(t *testing.T) {
	if _, err := exec.LookPath("restic"); err != nil {
		t.Skip("restic is not installed (.ci/run installs it)")
	}
	work := t.TempDir()
	repo, src := filepath.Join(work, "repo"), filepath.Join(work, "src")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	write(t, filepath.Join(src, "a.txt"), "alpha v1\n", t0)
	write(t, filepath.Join(src, "sub", "b.txt"), "bravo\n", t0)
	write(t, filepath.Join(src, "gone.txt"), "soon gone\n", t0)
	resticRun(t, repo, "init")
	resticRun(t, repo, "backup", src)
	write(t, filepath.Join(src, "a.txt"), "alpha version two\n", t0.Add(time.Hour))
	write(t, filepath.Join(src, "new.txt"), "new\n", t0)
	if err := os.Remove(filepath.Join(src, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	resticRun(t, repo, "backup", src)
	resticRun(t, repo, "backup", src) // a third, with a.txt unchanged

	env := servertest.New(t)
	admin, op, viewer := env.Token("admin"), env.Token("operator"), env.Token("viewer")

	var rs map[string]any
	if st := env.JSON(http.MethodGet, "/api/backup/restic", viewer, nil, &rs); st != http.StatusOK || rs["configured"] != false {
		t.Fatalf("restic unconfigured: %d %v", st, rs)
	}
	var e errBody
	if st := env.JSON(http.MethodGet, "/api/backup/snapshots/abcdef12/browse", viewer, nil, &e); st != http.StatusNotFound || e.Error != "Backup destination not configured" {
		t.Fatalf("browse unconfigured: %d %+v", st, e)
	}
	// A wrong password: configured, with restic's own error.
	env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"resticRepo": repo, "resticPassword": "wrong"})
	if st := env.JSON(http.MethodGet, "/api/backup/restic", viewer, nil, &rs); st != http.StatusOK || rs["configured"] != true || rs["error"] == nil {
		t.Fatalf("restic wrong password: %d %v", st, rs)
	}
	if st, b := env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"resticRepo": repo, "resticPassword": resticPW, "backupSources": []string{src}}); st != http.StatusOK {
		t.Fatalf("settings: %d %s", st, b)
	}
	if _, b := env.Do(http.MethodGet, "/api/settings", admin, nil); strings.Contains(string(b), resticPW) {
		t.Fatal("settings leak the restic password")
	}

	var status struct {
		Configured bool `json:"configured"`
		Snapshots  []struct {
			ID    string   `json:"id"`
			Paths []string `json:"paths"`
		} `json:"snapshots"`
	}
	if st := env.JSON(http.MethodGet, "/api/backup/restic", viewer, nil, &status); st != http.StatusOK || !status.Configured || len(status.Snapshots) != 3 || status.Snapshots[0].Paths[0] != src {
		t.Fatalf("restic status: %d %+v", st, status)
	}
	var hist struct {
		Snapshots []snapshot `json:"snapshots"`
		Dest      string     `json:"dest"`
		Source    string     `json:"source"`
	}
	if st := env.JSON(http.MethodGet, "/api/backup/history", viewer, nil, &hist); st != http.StatusOK || len(hist.Snapshots) != 3 || hist.Source != "restic" || hist.Dest != repo {
		t.Fatalf("history: %d %+v", st, hist)
	}
	s3, s2, s1 := hist.Snapshots[0].Name, hist.Snapshots[1].Name, hist.Snapshots[2].Name
	if hist.Snapshots[0].MTime < hist.Snapshots[2].MTime {
		t.Fatalf("history not newest first: %+v", hist.Snapshots)
	}

	rel := strings.TrimPrefix(src, "/")
	var br browsed
	if st := env.JSON(http.MethodGet, "/api/backup/snapshots/"+s1+"/browse?path="+url.QueryEscape(rel), viewer, nil, &br); st != http.StatusOK || br.Type != "dir" {
		t.Fatalf("browse s1: %d %+v", st, br)
	}
	names := []string{}
	for _, x := range br.Entries {
		names = append(names, x.Name+":"+x.Type)
	}
	if strings.Join(names, ",") != "sub:dir,a.txt:file,gone.txt:file" || br.Entries[1].Size != 9 || br.Entries[1].MTime != t0.Unix() {
		t.Fatalf("browse s1 entries: %v %+v", names, br.Entries)
	}
	if st := env.JSON(http.MethodGet, "/api/backup/snapshots/"+s2+"/browse?path="+url.QueryEscape(rel+"/a.txt"), viewer, nil, &br); st != http.StatusOK || br.Type != "file" || br.Size != 18 || br.Name != "a.txt" {
		t.Fatalf("browse file: %d %+v", st, br)
	}
	if st := env.JSON(http.MethodGet, "/api/backup/snapshots/"+s1+"/browse?path="+url.QueryEscape(rel+"/../../etc"), viewer, nil, &e); st != http.StatusBadRequest || e.Error != "Invalid snapshot or path" {
		t.Fatalf("browse escape: %d %+v", st, e)
	}
	if st := env.JSON(http.MethodGet, "/api/backup/snapshots/"+s1+"/browse?path="+url.QueryEscape(rel+"/nope"), viewer, nil, &e); st != http.StatusNotFound || e.Error != "Path not found" {
		t.Fatalf("browse missing: %d %+v", st, e)
	}
	if st := env.JSON(http.MethodGet, "/api/backup/snapshots/NOT-AN-ID/browse", viewer, nil, &e); st != http.StatusBadRequest {
		t.Fatalf("browse bad name: %d %+v", st, e)
	}

	var d diffed
	if st := env.JSON(http.MethodGet, "/api/backup/snapshots/diff?a="+s1+"&b="+s2+"&path="+url.QueryEscape(rel), viewer, nil, &d); st != http.StatusOK {
		t.Fatalf("diff: %d", st)
	}
	if strings.Join(d.Added, ",") != "new.txt" || strings.Join(d.Removed, ",") != "gone.txt" || strings.Join(d.Changed, ",") != "a.txt" || d.UnchangedCount != 1 {
		t.Fatalf("diff s1..s2: %+v", d)
	}
	if st := env.JSON(http.MethodGet, "/api/backup/snapshots/diff?a="+s1+"&b=zz&path=", viewer, nil, &e); st != http.StatusBadRequest || e.Error != "Invalid snapshot names" {
		t.Fatalf("diff bad names: %d %+v", st, e)
	}

	var v versions
	if st := env.JSON(http.MethodGet, "/api/backup/file-versions?path="+url.QueryEscape(rel+"/a.txt"), viewer, nil, &v); st != http.StatusOK || len(v.Versions) != 3 {
		t.Fatalf("versions: %d %+v", st, v)
	}
	if v.Versions[0].Snapshot != s3 || !v.Versions[0].Unique || v.Versions[1].Unique || !v.Versions[2].Unique || v.Versions[2].Size != 9 {
		t.Fatalf("versions detail: %+v", v.Versions)
	}
	if st := env.JSON(http.MethodGet, "/api/backup/file-versions", viewer, nil, &e); st != http.StatusBadRequest || e.Error != "File path required" {
		t.Fatalf("versions without path: %d %+v", st, e)
	}

	// Restore: admin only, one file, confined.
	body := map[string]any{"snapshot": s1, "path": rel + "/a.txt"}
	if st, _ := env.Do(http.MethodPost, "/api/backup/restore", op, body); st != http.StatusForbidden {
		t.Fatalf("operator restore: %d", st)
	}
	for _, c := range []struct {
		body map[string]any
		st   int
		msg  string
	}{
		{map[string]any{"snapshot": s1, "path": rel + "/../../../etc/passwd"}, 400, "Invalid snapshot or file path"},
		{map[string]any{"snapshot": s1, "path": rel + "/sub"}, 400, "Can only restore individual files"},
		{map[string]any{"snapshot": s1, "path": rel + "/a.txt", "dest": "/etc/noba-test"}, 403, "Restore destination is in a protected system path"},
		{map[string]any{"snapshot": s1, "path": rel + "/a.txt", "dest": filepath.Join(work, "elsewhere.txt")}, 403, ""},
	} {
		if st := env.JSON(http.MethodPost, "/api/backup/restore", admin, c.body, &e); st != c.st || (c.msg != "" && e.Error != c.msg) {
			t.Errorf("restore %v: %d %+v, want %d %q", c.body, st, e, c.st, c.msg)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "elsewhere.txt")); err == nil {
		t.Fatal("a refused restore wrote a file")
	}
	var res struct {
		Status     string `json:"status"`
		RestoredTo string `json:"restored_to"`
	}
	if st := env.JSON(http.MethodPost, "/api/backup/restore", admin, body, &res); st != http.StatusOK || res.Status != "ok" {
		t.Fatalf("restore to origin: %d %+v", st, res)
	}
	real, _ := filepath.EvalSymlinks(filepath.Join(src, "a.txt"))
	if res.RestoredTo != real {
		t.Fatalf("restored_to %q, want %q", res.RestoredTo, real)
	}
	got, _ := os.ReadFile(filepath.Join(src, "a.txt"))
	fi, _ := os.Stat(filepath.Join(src, "a.txt"))
	if string(got) != "alpha v1\n" || !fi.ModTime().Equal(t0) || fi.Mode().Perm() != 0o640 {
		t.Fatalf("restored file: %q %v %v", got, fi.ModTime(), fi.Mode())
	}
	// Into <data dir>/restores.
	dst := filepath.Join(env.Dir, "restores", "old-b.txt")
	if st := env.JSON(http.MethodPost, "/api/backup/restore", admin, map[string]any{"snapshot": s2, "path": rel + "/sub/b.txt", "dest": dst}, &res); st != http.StatusOK {
		t.Fatalf("restore to restores/: %d", st)
	}
	if got, _ := os.ReadFile(dst); string(got) != "bravo\n" {
		t.Fatalf("restores/ copy: %q", got)
	}

	var health map[string]any
	if st := env.JSON(http.MethodGet, "/api/backup/health", viewer, nil, &health); st != http.StatusOK || health["accessible"] != true || health["snapshot_count"] != float64(3) {
		t.Fatalf("health: %d %v", st, health)
	}
	var audit []struct{ Action, Details string }
	env.JSON(http.MethodGet, "/api/audit?action=backup_restore", admin, nil, &audit)
	if len(audit) != 2 {
		t.Fatalf("restore audit: %+v", audit)
	}
}

func TestSnapshotDirectories(t *testing.T) {
	dest, srcRoot := t.TempDir(), t.TempDir()
	src := filepath.Join(srcRoot, "docs")
	t0 := time.Date(2025, 6, 10, 3, 15, 0, 0, time.UTC)
	write(t, filepath.Join(dest, "20250610-031500", "docs", "x.txt"), "one", t0)
	write(t, filepath.Join(dest, "20250611-031500", "docs", "x.txt"), "one!", t0.Add(time.Hour))
	write(t, filepath.Join(dest, "20250611-031500", "docs", "y.txt"), "why", t0)
	// A sibling whose name extends a snapshot's, and a symlink out of the snapshot.
	write(t, filepath.Join(dest, "20250610-031500x", "secret.txt"), "s", t0)
	if err := os.Symlink(filepath.Join(dest, "20250610-031500x"), filepath.Join(dest, "20250610-031500", "docs", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dest, "not-a-snapshot"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")
	var hist struct {
		Snapshots []snapshot `json:"snapshots"`
		Dest      string     `json:"dest"`
	}
	if st := env.JSON(http.MethodGet, "/api/backup/history", viewer, nil, &hist); st != http.StatusOK || len(hist.Snapshots) != 0 || hist.Dest != "" {
		t.Fatalf("history unconfigured: %d %+v", st, hist)
	}
	if st, b := env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"backupDest": dest, "backupSources": []string{src}}); st != http.StatusOK {
		t.Fatalf("settings: %d %s", st, b)
	}
	if st := env.JSON(http.MethodGet, "/api/backup/history", viewer, nil, &hist); st != http.StatusOK || len(hist.Snapshots) != 2 || hist.Snapshots[0].Name != "20250611-031500" {
		t.Fatalf("history: %d %+v", st, hist)
	}
	var e errBody
	for _, p := range []string{"docs/link/secret.txt", "../20250610-031500x/secret.txt"} {
		if st := env.JSON(http.MethodGet, "/api/backup/snapshots/20250610-031500/browse?path="+url.QueryEscape(p), viewer, nil, &e); st != http.StatusBadRequest {
			t.Errorf("escape %s: %d %+v", p, st, e)
		}
	}
	var d diffed
	if st := env.JSON(http.MethodGet, "/api/backup/snapshots/diff?a=20250610-031500&b=20250611-031500&path=docs", viewer, nil, &d); st != http.StatusOK ||
		strings.Join(d.Added, ",") != "y.txt" || strings.Join(d.Removed, ",") != "link" || strings.Join(d.Changed, ",") != "x.txt" {
		t.Fatalf("diff: %d %+v", st, d)
	}
	var v versions
	if st := env.JSON(http.MethodGet, "/api/backup/file-versions?path=docs/x.txt", viewer, nil, &v); st != http.StatusOK || len(v.Versions) != 2 || !v.Versions[1].Unique {
		t.Fatalf("versions: %d %+v", st, v)
	}
	// No dest: back to the source it came from (docs → backupSources entry).
	var res struct {
		Status     string `json:"status"`
		RestoredTo string `json:"restored_to"`
	}
	if st := env.JSON(http.MethodPost, "/api/backup/restore", admin, map[string]any{"snapshot": "20250610-031500", "path": "docs/x.txt"}, &res); st != http.StatusOK {
		t.Fatalf("restore: %d %+v", st, res)
	}
	if got, _ := os.ReadFile(filepath.Join(src, "x.txt")); string(got) != "one" {
		t.Fatalf("restored: %q", got)
	}
}

func TestBackupStateAndSchedules(t *testing.T) {
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")
	var st struct{ NAS, Cloud map[string]any }
	if c := env.JSON(http.MethodGet, "/api/backup/status", viewer, nil, &st); c != http.StatusOK || st.NAS != nil || st.Cloud != nil {
		t.Fatalf("status empty: %d %+v", c, st)
	}
	var e errBody
	if c := env.JSON(http.MethodPost, "/api/backup/report", admin, nil, &e); c != http.StatusNotFound || e.Error != "No backup state found" {
		t.Fatalf("report without state: %d %+v", c, e)
	}
	write(t, filepath.Join(env.Dir, "backup-to-nas.state"), "exit_code=0\nsnapshot=\"20250611-031500\"\nduration=42\nfailed_sources=\ntimestamp=2025-06-11T03:15:42\njunk\n", time.Now())
	write(t, filepath.Join(env.Dir, "cloud-backup.state"), "LAST_STATUS=Success\nLAST_SYNC_TIME=2025-06-11 04:00\nLAST_SIZE=1.2G\n", time.Now())
	if c := env.JSON(http.MethodGet, "/api/backup/status", viewer, nil, &st); c != http.StatusOK || st.NAS["exit_code"] != float64(0) ||
		st.NAS["snapshot"] != "20250611-031500" || st.NAS["duration"] != float64(42) || st.Cloud["exit_code"] != float64(0) || st.Cloud["size"] != "1.2G" {
		t.Fatalf("status: %d %+v", c, st)
	}
	if c := env.JSON(http.MethodPost, "/api/backup/report", admin, nil, &e); c != http.StatusBadRequest || e.Error != "Email notifications not configured" {
		t.Fatalf("report without email: %d %+v", c, e)
	}
	var sch []map[string]any
	if c := env.JSON(http.MethodGet, "/api/backup/schedules", viewer, nil, &sch); c != http.StatusOK || sch == nil {
		t.Fatalf("schedules: %d %v", c, sch)
	}
	if c := env.JSON(http.MethodPost, "/api/backup/schedule", admin, map[string]any{"type": "nope"}, &e); c != http.StatusBadRequest || e.Error != "Type must be backup, cloud, or verify" {
		t.Fatalf("bad schedule type: %d %+v", c, e)
	}
	// The automations room is built into the server: the default schedule
	// (backup, 03:00) becomes a script automation that the list shows.
	var created struct{ ID, Status string }
	if c := env.JSON(http.MethodPost, "/api/backup/schedule", admin, map[string]any{}, &created); c != http.StatusOK || created.ID == "" {
		t.Fatalf("create schedule: %d %+v", c, created)
	}
	sch = nil
	if c := env.JSON(http.MethodGet, "/api/backup/schedules", viewer, nil, &sch); c != http.StatusOK || len(sch) != 1 || fmt.Sprint(sch[0]["id"]) != created.ID || sch[0]["schedule"] != "0 3 * * *" {
		t.Fatalf("schedules after create: %d %v", c, sch)
	}
	var pr map[string]any
	if c := env.JSON(http.MethodGet, "/api/backup/progress", viewer, nil, &pr); c != http.StatusOK || pr["running"] != false {
		t.Fatalf("progress: %d %v", c, pr)
	}
	var h map[string]any
	if c := env.JSON(http.MethodGet, "/api/backup/health", viewer, nil, &h); c != http.StatusOK || h["accessible"] != false {
		t.Fatalf("health unconfigured: %d %v", c, h)
	}
}
