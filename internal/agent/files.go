package agent

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"crypto/md5" //nolint:gosec // md5 is an offered checksum algorithm, not used for security
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/wire"
)

// resolve cleans p and resolves symlinks of its longest existing prefix.
func resolve(p string) (string, error) {
	if strings.ContainsRune(p, 0) {
		return "", wire.Message("Null byte in path")
	}
	for _, seg := range strings.Split(filepath.ToSlash(p), "/") {
		if seg == ".." {
			return "", wire.Message("Path traversal not allowed")
		}
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	cur := abs
	for {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			if rest == "" {
				return r, nil
			}
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// readable applies the agent's read rules (after resolving symlinks).
func readable(p string) (string, error) {
	r, err := resolve(p)
	if err != nil {
		return "", err
	}
	for _, d := range []string{"/etc/shadow", "/etc/gshadow", "/proc/kcore"} {
		if r == d || strings.HasPrefix(r, d+"/") {
			return "", wire.Messagef("Denied path: %s", r)
		}
	}
	for _, pat := range []string{"/.ssh/id_", "/private/key"} {
		if strings.Contains(r, pat) && !strings.HasSuffix(r, ".pub") {
			return "", wire.Messagef("Denied pattern: %s", pat)
		}
	}
	// The server's read rules again, on the resolved path (a symlink to a
	// private key is refused as the key is).
	if err := wire.CheckReadPath(filepath.ToSlash(r)); err != nil && runtime.GOOS != "windows" {
		return "", wire.Messagef("Denied path: %s", r)
	}
	return r, nil
}

// writeRoots are the directories file_write, file_delete and file_push may
// touch (on path-component boundaries, after resolving symlinks).
func (a *Agent) writeRoots() []string {
	roots := []string{"/opt/noba-agent"}
	if a.cfg.DataDir != "" {
		roots = append(roots, a.cfg.DataDir)
	}
	if runtime.GOOS == "windows" {
		roots = append(roots, filepath.Join(os.Getenv("ProgramData"), "noba-agent"))
	}
	return roots
}

func within(p, root string) bool {
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	root = filepath.Clean(root)
	return p == root || strings.HasPrefix(p, root+string(filepath.Separator))
}

// writable applies the agent's write allowlist to the resolved path.
func (a *Agent) writable(p string) (string, error) {
	r, err := resolve(p)
	if err != nil {
		return "", err
	}
	for _, root := range a.writeRoots() {
		if within(r, root) {
			return r, nil
		}
	}
	for _, tmp := range []string{"/tmp", os.TempDir()} {
		if t, err := filepath.EvalSymlinks(tmp); err == nil {
			tmp = t
		}
		if rel, err := filepath.Rel(tmp, r); err == nil && !strings.HasPrefix(rel, "..") {
			first := strings.Split(filepath.ToSlash(rel), "/")[0]
			if strings.HasPrefix(first, "noba-") {
				return r, nil
			}
		}
	}
	return "", wire.Messagef("Write denied: path must be under %s, /tmp/noba-*", strings.Join(a.writeRoots(), ", "))
}

func hFileRead(_ context.Context, c *call, in *wire.FileReadParams) map[string]any {
	p, err := readable(in.Path)
	if err != nil {
		return fail("%v", err)
	}
	f, err := os.Open(p)
	if err != nil {
		return fail("%v", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return fail("Not a file: %s", p)
	}
	if off := intOr(in.Offset, 0); off > 0 {
		if _, err := f.Seek(int64(off), io.SeekStart); err != nil {
			return fail("%v", err)
		}
	}
	var content string
	if n := intOr(in.Lines, 0); n > 0 {
		var b strings.Builder
		sc := bufio.NewScanner(io.LimitReader(f, wire.OutputCap))
		for i := 0; i < n && sc.Scan(); i++ {
			b.WriteString(sc.Text())
			b.WriteByte('\n')
		}
		content = b.String()
	} else {
		b, _ := io.ReadAll(io.LimitReader(f, wire.OutputCap))
		content = string(b)
	}
	content = strings.ToValidUTF8(content, "\uFFFD")
	return ok(map[string]any{"path": p, "size": len([]rune(content)), "content": content})
}

func hFileList(_ context.Context, c *call, in *wire.FileListParams) map[string]any {
	dir := in.Path
	if dir == "" {
		dir = "."
	}
	d, err := readable(dir)
	if err != nil {
		return fail("%v", err)
	}
	pat := in.Pattern
	if pat == "" {
		pat = "*"
	}
	maxN := min(max(intOr(in.Max, 500), 1), 500)
	matches, err := filepath.Glob(filepath.Join(d, pat))
	if err != nil {
		return fail("Invalid pattern")
	}
	sort.Strings(matches)
	entries := []map[string]any{}
	for _, m := range matches {
		if len(entries) >= maxN {
			break
		}
		if _, err := readable(m); err != nil {
			continue
		}
		st, err := os.Lstat(m)
		if err != nil {
			continue
		}
		entries = append(entries, map[string]any{"path": m, "size": st.Size(), "is_dir": st.IsDir(), "mtime": st.ModTime().Unix()})
	}
	return ok(map[string]any{"path": d, "count": len(entries), "entries": entries})
}

func hashFile(p, algo string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	var h hash.Hash = sha256.New()
	if algo == "md5" {
		h = md5.New() //nolint:gosec // offered algorithm
	}
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func hFileChecksum(_ context.Context, c *call, in *wire.FileChecksumParams) map[string]any {
	p, err := readable(in.Path)
	if err != nil {
		return fail("%v", err)
	}
	algo := in.Algorithm
	if algo == "" {
		algo = "sha256"
	}
	sum, _, err := hashFile(p, algo)
	if err != nil {
		return fail("%v", err)
	}
	return ok(map[string]any{"path": p, "algorithm": algo, "checksum": sum})
}

func hFileStat(_ context.Context, c *call, in *wire.PathParams) map[string]any {
	raw := in.Path
	p, err := readable(raw)
	if err != nil {
		return fail("%v", err)
	}
	lst, err := os.Lstat(raw)
	if err != nil {
		return fail("Path not found: %s", raw)
	}
	st, err := os.Stat(p)
	if err != nil {
		st = lst
	}
	res := map[string]any{"path": p, "size": st.Size(), "mode": "0o" + strconv.FormatUint(uint64(fileMode(st)), 8),
		"mtime": st.ModTime().Unix(), "ctime": st.ModTime().Unix(), "is_dir": st.IsDir(), "is_link": lst.Mode()&os.ModeSymlink != 0,
		"uid": 0, "gid": 0}
	statOwner(st, res)
	return ok(res)
}

// fileMode renders a Go FileMode as the Unix st_mode bits.
func fileMode(st os.FileInfo) uint32 {
	m := uint32(st.Mode().Perm())
	switch {
	case st.IsDir():
		m |= 0o040000
	case st.Mode()&os.ModeSymlink != 0:
		m |= 0o120000
	case st.Mode().IsRegular():
		m |= 0o100000
	}
	return m
}

// backup copies an existing file into the backups directory.
func (a *Agent) backup(p, suffix string) error {
	dir := filepath.Join(a.cfg.DataDir, "backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	src, err := os.Open(p)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%s.%d.%s", filepath.Base(p), time.Now().Unix(), suffix)),
		os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// writeFileAtomic writes data to p through a temporary file and rename.
func writeFileAtomic(p string, data io.Reader, mode os.FileMode) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp*")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(tmp, data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return 0, err
	}
	return n, nil
}

func hFileWrite(_ context.Context, c *call, in *wire.FileWriteParams) map[string]any {
	p, err := c.agent.writable(in.Path)
	if err != nil {
		return fail("%v", err)
	}
	content := *in.Content
	if len(content) > wire.MaxWriteContent {
		return fail("Content exceeds 1 MiB")
	}
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		if err := c.agent.backup(p, "bak"); err != nil {
			return fail("Backup failed: %v", err)
		}
	}
	n, err := writeFileAtomic(p, strings.NewReader(content), 0o644)
	if err != nil {
		return fail("%v", err)
	}
	return ok(map[string]any{"path": p, "bytes_written": n})
}

func hFileDelete(_ context.Context, c *call, in *wire.PathParams) map[string]any {
	p, err := c.agent.writable(in.Path)
	if err != nil {
		return fail("%v", err)
	}
	st, err := os.Lstat(p)
	if err != nil {
		return fail("Path not found: %s", p)
	}
	if st.IsDir() {
		return fail("Refusing to delete a directory: %s", p)
	}
	if st.Mode().IsRegular() {
		if err := c.agent.backup(p, "deleted"); err != nil {
			return fail("Backup failed: %v", err)
		}
	}
	if err := os.Remove(p); err != nil {
		return fail("%v", err)
	}
	return ok(map[string]any{"path": p, "deleted": true})
}

func hVerifyBackup(_ context.Context, c *call, in *wire.VerifyBackupParams) map[string]any {
	a := c.agent
	p, err := readable(in.Path)
	if err != nil {
		return fail("%v", err)
	}
	typ := in.VerificationType
	if typ == "" {
		typ = "checksum"
	}
	res := map[string]any{"verification_type": typ, "path": p, "verified_at": time.Now().Unix()}
	st, err := os.Stat(p)
	if err != nil {
		res["status"], res["error"] = "error", "Path not found: "+p
		return res
	}
	switch typ {
	case "checksum":
		sum, n, err := hashFile(p, "sha256")
		if err != nil {
			res["status"], res["error"] = "error", err.Error()
			return res
		}
		res["details"] = map[string]any{"sha256": sum, "size": n}
	case "restore_test":
		names, count, err := tarMembers(p)
		if err != nil {
			res["status"], res["error"] = "error", "Not a readable tar archive: "+err.Error()
			return res
		}
		res["details"] = map[string]any{"file_count": count, "sample_files": names, "readable": true}
	case "db_integrity":
		if st.Size() < 100 {
			res["status"], res["error"] = "error", "Not an SQLite database"
			return res
		}
		out := a.run(context.Background(), 60*time.Second, "sqlite3", p, "PRAGMA integrity_check;")
		if out.err != nil || out.code != 0 {
			res["status"], res["error"] = "error", "Integrity check unavailable: "+errText(out)
			return res
		}
		r := strings.TrimSpace(out.stdout)
		res["details"] = map[string]any{"integrity_check": r}
		if r != "ok" {
			res["status"] = "error"
			return res
		}
	}
	res["status"] = "ok"
	return res
}

// tarMembers lists a tar archive (plain, gzip or bzip2).
func tarMembers(p string) ([]string, int, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(3)
	var r io.Reader = br
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, 0, err
		}
		r = gz
	case bytes.HasPrefix(head, []byte("BZh")):
		r = bzip2.NewReader(br)
	}
	tr := tar.NewReader(r)
	names := []string{}
	n := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		if n < 50 {
			names = append(names, h.Name)
		}
		n++
	}
	if n == 0 {
		return nil, 0, errors.New("empty archive")
	}
	return names, n, nil
}

// hFileTransfer uploads a local file to the server in 256 KiB chunks with
// its SHA-256 (spec 20 §9.1).
func hFileTransfer(ctx context.Context, c *call, in *wire.FileTransferParams) map[string]any {
	src := in.File()
	p, err := readable(src)
	if err != nil {
		return fail("%v", err)
	}
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return fail("Not a regular file: %s", src)
	}
	if st.Size() > wire.MaxFile {
		return fail("File too large (max 50MB)")
	}
	sum, _, err := hashFile(p, "sha256")
	if err != nil {
		return fail("%v", err)
	}
	checksum := "sha256:" + sum
	total := int((st.Size() + wire.ChunkSize - 1) / wire.ChunkSize)
	total = max(total, 1)
	id := wire.NewID(16)
	f, err := os.Open(p)
	if err != nil {
		return fail("%v", err)
	}
	defer f.Close()
	buf := make([]byte, wire.ChunkSize)
	for i := 0; i < total; i++ {
		n, err := io.ReadFull(f, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return fail("Failed to read chunk %d: %v", i, err)
		}
		var last error
		for try := 0; try < 3; try++ {
			if last = c.agent.uploadChunk(ctx, id, i, total, filepath.Base(p), checksum, buf[:n]); last == nil {
				break
			}
		}
		if last != nil {
			return fail("Failed to upload chunk %d: %v", i, last)
		}
	}
	return ok(map[string]any{"transfer_id": id, "path": p, "size": st.Size(), "chunks": total, "checksum": checksum})
}

func (a *Agent) uploadChunk(ctx context.Context, id string, i, total int, name, checksum string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.Server+wire.PathFileUpload, bytes.NewReader(data))
	if err != nil {
		return err
	}
	h := req.Header
	h.Set(wire.HeaderAgentKey, a.cfg.Key)
	h.Set(wire.HeaderTransferID, id)
	h.Set(wire.HeaderChunkIndex, strconv.Itoa(i))
	h.Set(wire.HeaderTotalChunks, strconv.Itoa(total))
	h.Set(wire.HeaderFilename, name)
	h.Set(wire.HeaderFileChecksum, checksum)
	h.Set(wire.HeaderAgentHostname, a.cfg.Hostname)
	h.Set("Content-Type", "application/octet-stream")
	res, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}

// hFilePush downloads a pushed file, verifies its SHA-256 and writes it
// (spec 20 §9.2) inside the write allowlist.
func hFilePush(ctx context.Context, c *call, in *wire.FilePushParams) map[string]any {
	dest := in.Dest()
	p, err := c.agent.writable(dest)
	if err != nil {
		return fail("%v", err)
	}
	id := in.TransferID
	if !wire.ValidTransferID(id) {
		return fail("Invalid transfer_id")
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.agent.cfg.Server+wire.PathFileDownload+id, nil)
	if err != nil {
		return fail("%v", err)
	}
	req.Header.Set(wire.HeaderAgentKey, c.agent.cfg.Key)
	req.Header.Set(wire.HeaderAgentHostname, c.agent.cfg.Hostname)
	res, err := c.agent.http.Do(req)
	if err != nil {
		return fail("Download failed: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fail("Download failed: HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(b)))
	}
	// Stage next to the destination, verify, then move into place.
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fail("%v", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".push*")
	if err != nil {
		return fail("%v", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(res.Body, wire.MaxFile+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail("Download failed: %v", err)
	}
	if n > wire.MaxFile {
		return fail("File too large (max 50MB)")
	}
	got := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if want := res.Header.Get(wire.HeaderFileChecksum); strings.HasPrefix(want, "sha256:") && want != got {
		return fail("Checksum mismatch: %s != %s", want, got)
	}
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		if err := c.agent.backup(p, "bak"); err != nil {
			return fail("Backup failed: %v", err)
		}
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fail("%v", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fail("%v", err)
	}
	return ok(map[string]any{"path": p, "size": n, "checksum": got})
}
