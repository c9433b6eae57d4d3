package backups

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// restic runs the restic CLI against the configured repository.
type restic struct {
	bin, repo, password string
	cacheDir            string
}

// errResticMissing is returned when the restic binary is not installed.
var errResticMissing = errors.New("restic not installed")

// resticError is restic's own failure, with its stderr (≤200 chars).
type resticError struct{ msg string }

func (e *resticError) Error() string { return e.msg }

func (r *Room) restic() (*restic, bool) {
	st := r.d.Settings.Current()
	repo, pw := st.ResticRepo, st.ResticPassword
	if strings.TrimSpace(repo) == "" {
		return nil, false
	}
	return &restic{bin: r.d.Restic, repo: strings.TrimSpace(repo), password: pw, cacheDir: r.stateFile("restic-cache")}, true
}

func (x *restic) cmd(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"--no-lock", "--json", "--cache-dir", x.cacheDir}, args...)
	c := exec.CommandContext(ctx, x.bin, full...)
	// Only what restic needs: the repository and its password never appear
	// on a command line (visible in ps), and no other secret is inherited.
	c.Env = []string{"RESTIC_REPOSITORY=" + x.repo, "RESTIC_PASSWORD=" + x.password, "PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	c.WaitDelay = 2 * time.Second
	return c
}

func resticErr(err error, stderr []byte) error {
	if errors.Is(err, exec.ErrNotFound) {
		return errResticMissing
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		msg := strings.TrimSpace(string(stderr))
		if msg == "" {
			msg = ee.String()
		}
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return &resticError{msg: msg}
	}
	return err
}

// run runs restic and returns its stdout.
func (x *restic) run(ctx context.Context, timeout time.Duration, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out, errb bytes.Buffer
	c := x.cmd(ctx, args...)
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("restic %s timed out after %s", args[0], timeout)
		}
		return nil, resticErr(err, errb.Bytes())
	}
	return out.Bytes(), nil
}

// Snapshot is one restic snapshot.
type resticSnapshot struct {
	Time     time.Time `json:"time"`
	Paths    []string  `json:"paths"`
	Hostname string    `json:"hostname"`
	Tags     []string  `json:"tags"`
	ID       string    `json:"id"`
	ShortID  string    `json:"short_id"`
}

func (x *restic) snapshots(ctx context.Context, extra ...string) ([]resticSnapshot, error) {
	out, err := x.run(ctx, 30*time.Second, append([]string{"snapshots"}, extra...)...)
	if err != nil {
		return nil, err
	}
	var ss []resticSnapshot
	if err := json.Unmarshal(out, &ss); err != nil {
		return nil, fmt.Errorf("restic snapshots: %w", err)
	}
	return ss, nil
}

// node is one entry of `restic ls --json`.
type node struct {
	Name       string    `json:"name"`
	Type       string    `json:"type"`
	Path       string    `json:"path"`
	Size       int64     `json:"size"`
	Mode       uint32    `json:"mode"`
	MTime      time.Time `json:"mtime"`
	Inode      uint64    `json:"inode"`
	StructType string    `json:"struct_type"`
}

// ls lists the node at p (absolute in the snapshot tree) and, for a
// directory, its immediate children. found is false when p is absent.
func (x *restic) ls(ctx context.Context, id, p string) (self node, children []node, found bool, err error) {
	out, err := x.run(ctx, 60*time.Second, "ls", id, p)
	if err != nil {
		return self, nil, false, err
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for sc.Scan() {
		var n node
		if json.Unmarshal(sc.Bytes(), &n) != nil || n.StructType != "node" {
			continue
		}
		switch {
		case n.Path == p:
			self, found = n, true
		case parentOf(n.Path) == p:
			children = append(children, n)
		}
	}
	if p == "/" {
		found = true
		self = node{Name: "/", Type: "dir", Path: "/"}
	}
	return self, children, found, sc.Err()
}

func parentOf(p string) string {
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// change is one line of `restic diff --json`.
type change struct {
	MessageType string `json:"message_type"`
	Path        string `json:"path"`
	Modifier    string `json:"modifier"`
}

func (x *restic) diff(ctx context.Context, a, b string) ([]change, error) {
	out, err := x.run(ctx, 120*time.Second, "diff", a, b)
	if err != nil {
		return nil, err
	}
	var cs []change
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for sc.Scan() {
		var c change
		if json.Unmarshal(sc.Bytes(), &c) == nil && c.MessageType == "change" {
			cs = append(cs, c)
		}
	}
	return cs, sc.Err()
}

// dump streams the file at p of snapshot id into w.
func (x *restic) dump(ctx context.Context, id, p string, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var errb bytes.Buffer
	c := x.cmd(ctx, "dump", id, p)
	c.Stdout, c.Stderr = w, &errb
	if err := c.Run(); err != nil {
		return resticErr(err, errb.Bytes())
	}
	return nil
}
