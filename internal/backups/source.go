package backups

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// entry is a file or directory inside a snapshot.
type entry struct {
	Name  string
	Type  string // "dir" | "file" | other
	Size  int64
	MTime int64
	Inode uint64
	Mode  os.FileMode
}

// snapInfo is one snapshot of a source.
type snapInfo struct {
	Name     string
	Time     time.Time
	ID       string
	Paths    []string
	Hostname string
}

// source is where snapshots come from: a restic repository or dated
// snapshot directories. Paths are clean and absolute in snapshot
// coordinates ("/" is the snapshot root).
type source interface {
	kind() string
	where() string
	validName(name string) bool
	list(ctx context.Context) ([]snapInfo, error)
	// stat returns the entry at p and, for a directory, its children.
	stat(ctx context.Context, snap, p string) (self entry, children []entry, found bool, err error)
	diff(ctx context.Context, a, b, p string) (added, removed, changed []string, unchanged int, err error)
	// copyTo writes the file's content to w.
	copyTo(ctx context.Context, snap, p string, w io.Writer) error
}

var errNoSource = errors.New("backup destination not configured")

// source picks the restic repository when configured, else backupDest.
func (r *Room) source() (source, error) {
	if x, ok := r.restic(); ok {
		return &resticSource{x: x}, nil
	}
	dest := r.d.Settings.Current().BackupDest
	if dest == "" {
		return nil, errNoSource
	}
	if fi, err := os.Stat(dest); err != nil || !fi.IsDir() {
		return nil, errNoSource
	}
	real, err := filepath.EvalSymlinks(dest)
	if err != nil {
		return nil, errNoSource
	}
	return &dirSource{dest: real}, nil
}

// cleanRel turns the user's relative path into a clean absolute snapshot
// path; ok is false for "..", NUL or other escapes.
func cleanRel(p string) (string, bool) {
	if strings.ContainsRune(p, 0) {
		return "", false
	}
	for _, c := range strings.Split(filepath.ToSlash(p), "/") {
		if c == ".." {
			return "", false
		}
	}
	return path.Clean("/" + p), true
}

// within reports whether p is root or below it, by whole path components.
func within(root, p string) bool {
	if p == root {
		return true
	}
	if !strings.HasSuffix(root, string(filepath.Separator)) {
		root += string(filepath.Separator)
	}
	return strings.HasPrefix(p, root)
}

// ---- restic ----

var resticIDRe = regexp.MustCompile(`^[0-9a-f]{8,64}$`)

type resticSource struct{ x *restic }

func (s *resticSource) kind() string               { return "restic" }
func (s *resticSource) where() string              { return s.x.repo }
func (s *resticSource) validName(name string) bool { return resticIDRe.MatchString(name) }

func (s *resticSource) list(ctx context.Context) ([]snapInfo, error) {
	ss, err := s.x.snapshots(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]snapInfo, 0, len(ss))
	for _, x := range ss {
		out = append(out, snapInfo{Name: x.ShortID, Time: x.Time, ID: x.ID, Paths: x.Paths, Hostname: x.Hostname})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out, nil
}

func nodeEntry(n node) entry {
	t := n.Type
	return entry{Name: n.Name, Type: t, Size: n.Size, MTime: n.MTime.Unix(), Inode: n.Inode, Mode: os.FileMode(n.Mode).Perm()}
}

func (s *resticSource) stat(ctx context.Context, snap, p string) (entry, []entry, bool, error) {
	self, kids, found, err := s.x.ls(ctx, snap, p)
	if err != nil || !found {
		return entry{}, nil, found, err
	}
	out := make([]entry, 0, len(kids))
	for _, k := range kids {
		out = append(out, nodeEntry(k))
	}
	return nodeEntry(self), out, true, nil
}

func (s *resticSource) diff(ctx context.Context, a, b, p string) (added, removed, changed []string, unchanged int, err error) {
	cs, err := s.x.diff(ctx, a, b)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	kind := map[string]string{}
	for _, c := range cs {
		cp := strings.TrimSuffix(c.Path, "/")
		if !within(p, cp) || cp == p {
			continue
		}
		rest := strings.TrimPrefix(strings.TrimPrefix(cp, p), "/")
		child, deeper, _ := strings.Cut(rest, "/")
		switch {
		case deeper != "":
			if kind[child] == "" {
				kind[child] = "changed"
			}
		case c.Modifier == "+":
			kind[child] = "added"
		case c.Modifier == "-":
			kind[child] = "removed"
		default:
			kind[child] = "changed"
		}
	}
	added, removed, changed = []string{}, []string{}, []string{}
	names := make([]string, 0, len(kind))
	for n := range kind {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		switch kind[n] {
		case "added":
			added = append(added, n)
		case "removed":
			removed = append(removed, n)
		default:
			changed = append(changed, n)
		}
	}
	_, kids, found, err := s.x.ls(ctx, b, p)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	if found {
		for _, k := range kids {
			if kind[k.Name] == "" {
				unchanged++
			}
		}
	}
	return added, removed, changed, unchanged, nil
}

func (s *resticSource) copyTo(ctx context.Context, snap, p string, w io.Writer) error {
	return s.x.dump(ctx, snap, p, w)
}

// ---- snapshot directories ----

var dirNameRe = regexp.MustCompile(`^\d{8}-\d{6}$`)

type dirSource struct{ dest string }

func (s *dirSource) kind() string               { return "directory" }
func (s *dirSource) where() string              { return s.dest }
func (s *dirSource) validName(name string) bool { return dirNameRe.MatchString(name) }

func (s *dirSource) list(ctx context.Context) ([]snapInfo, error) {
	des, err := os.ReadDir(s.dest)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.dest, err)
	}
	var out []snapInfo
	for _, d := range des {
		if !d.IsDir() || !dirNameRe.MatchString(d.Name()) { // DirEntry.IsDir is false for symlinks
			continue
		}
		t, err := time.ParseInLocation("20060102-150405", d.Name(), time.Local)
		if err != nil {
			continue
		}
		out = append(out, snapInfo{Name: d.Name(), Time: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name > out[j].Name })
	return out, nil
}

// real resolves p inside the snapshot, refusing symlink escapes.
func (s *dirSource) real(snap, p string) (string, bool, error) {
	base, err := filepath.EvalSymlinks(filepath.Join(s.dest, snap))
	if err != nil {
		if os.IsNotExist(err) {
			return "", false, nil
		}
		return "", false, err
	}
	if !within(s.dest, base) {
		return "", false, errEscape
	}
	full, err := filepath.EvalSymlinks(filepath.Join(base, filepath.FromSlash(p)))
	if err != nil {
		if os.IsNotExist(err) {
			return "", false, nil
		}
		return "", false, err
	}
	if !within(base, full) {
		return "", false, errEscape
	}
	return full, true, nil
}

var errEscape = errors.New("path escapes the snapshot")

// unreadableError is a snapshot directory that cannot be listed.
type unreadableError struct{ err error }

func (e *unreadableError) Error() string { return "cannot read directory: " + e.err.Error() }
func (e *unreadableError) Unwrap() error { return e.err }

func fileEntry(name string, fi os.FileInfo) entry {
	e := entry{Name: name, Type: "file", Size: fi.Size(), MTime: fi.ModTime().Unix(), Mode: fi.Mode().Perm()}
	if fi.IsDir() {
		e.Type, e.Size = "dir", 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		e.Inode = st.Ino
	}
	return e
}

func (s *dirSource) stat(ctx context.Context, snap, p string) (entry, []entry, bool, error) {
	full, ok, err := s.real(snap, p)
	if err != nil || !ok {
		return entry{}, nil, ok, err
	}
	fi, err := os.Stat(full)
	if err != nil {
		return entry{}, nil, false, nil
	}
	self := fileEntry(path.Base(p), fi)
	if !fi.IsDir() {
		return self, nil, true, nil
	}
	des, err := os.ReadDir(full)
	if err != nil {
		return self, nil, true, &unreadableError{err: err}
	}
	kids := make([]entry, 0, len(des))
	for _, d := range des {
		info, err := d.Info()
		if err != nil {
			continue
		}
		kids = append(kids, fileEntry(d.Name(), info))
	}
	return self, kids, true, nil
}

func (s *dirSource) diff(ctx context.Context, a, b, p string) (added, removed, changed []string, unchanged int, err error) {
	sa, ka, okA, err := s.stat(ctx, a, p)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	sb, kb, okB, err := s.stat(ctx, b, p)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	if !okA || !okB || sa.Type != "dir" || sb.Type != "dir" {
		return nil, nil, nil, 0, errSnapshotPath
	}
	ma, mb := map[string]entry{}, map[string]entry{}
	for _, e := range ka {
		ma[e.Name] = e
	}
	for _, e := range kb {
		mb[e.Name] = e
	}
	names := map[string]bool{}
	for n := range ma {
		names[n] = true
	}
	for n := range mb {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	if len(sorted) > 5000 {
		sorted = sorted[:5000]
	}
	added, removed, changed = []string{}, []string{}, []string{}
	for _, n := range sorted {
		ea, inA := ma[n]
		eb, inB := mb[n]
		switch {
		case !inB:
			removed = append(removed, n)
		case !inA:
			added = append(added, n)
		case ea.Inode != 0 && ea.Inode == eb.Inode:
			unchanged++
		case ea.Size != eb.Size || ea.MTime != eb.MTime:
			changed = append(changed, n)
		default:
			unchanged++
		}
	}
	return added, removed, changed, unchanged, nil
}

var errSnapshotPath = errors.New("snapshot path not found")

func (s *dirSource) copyTo(ctx context.Context, snap, p string, w io.Writer) error {
	full, ok, err := s.real(snap, p)
	if err != nil {
		return err
	}
	if !ok {
		return os.ErrNotExist
	}
	f, err := os.Open(full)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
