package agents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

const (
	maxFile       = wire.MaxFile
	transferTTL   = time.Hour
	transferSweep = 15 * time.Minute
	sweepPeriod   = 5 * time.Minute
)

// transfer is one file moving between the server and an agent (spec 20 §9).
type transfer struct {
	id        string
	hostname  string
	filename  string
	checksum  string
	total     int
	received  map[int]int64
	bytes     int64
	created   time.Time
	direction string // "upload" (agent -> server) or "download" (server -> agent)
	path      string // final file on the server
	dest      string // destination path on the agent (download)
	complete  bool
}

type transfers struct {
	dir string
	mu  sync.Mutex
	m   map[string]*transfer
}

func newTransfers(dir string) *transfers { return &transfers{dir: dir, m: map[string]*transfer{}} }

func (t *transfers) ensureDir() error { return os.MkdirAll(t.dir, 0o700) }

func safeName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "" || name == "." || name == "/" || strings.HasPrefix(name, ".") {
		return "unknown"
	}
	return name
}

// fileUpload serves POST /api/agent/file-upload: one chunk of an agent's
// file_transfer (spec 20 §9.1, with the §19 fixes: validated transfer id,
// bounded index, cumulative size cap, transfer bound to its first chunk's
// hostname and checksum).
func (r *Room) fileUpload(w http.ResponseWriter, req *http.Request) {
	pk, kerr := r.checkKey(req, false, "Invalid agent key", true)
	if kerr != nil {
		kerr.write(w)
		return
	}
	h := req.Header
	id := strings.TrimSpace(h.Get(wire.HeaderTransferID))
	idx, err1 := strconv.Atoi(strings.TrimSpace(h.Get(wire.HeaderChunkIndex)))
	total, err2 := strconv.Atoi(strings.TrimSpace(h.Get(wire.HeaderTotalChunks)))
	if err1 != nil || err2 != nil {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid chunk headers")
		return
	}
	if id == "" || idx < 0 || total <= 0 {
		httpx.WriteError(w, http.StatusBadRequest, "Missing transfer headers")
		return
	}
	if !wire.ValidTransferID(id) {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid transfer id")
		return
	}
	if idx >= total || total > maxFile/wire.ChunkSize+1 {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid chunk index")
		return
	}
	host := strings.TrimSpace(h.Get(wire.HeaderAgentHostname))
	if host != "" && !pk.allows(host) {
		httpx.WriteError(w, http.StatusForbidden, "Agent key not valid for hostname '"+host+"'")
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, req.Body, wire.ChunkSize+1024))
	if err != nil {
		httpx.WriteError(w, http.StatusRequestEntityTooLarge, "Chunk too large")
		return
	}
	checksum := strings.TrimSpace(h.Get(wire.HeaderFileChecksum))
	name := safeName(h.Get(wire.HeaderFilename))

	t := r.xfers
	if err := t.ensureDir(); err != nil {
		httpx.WriteErr(w, err)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	x := t.m[id]
	if x == nil {
		x = &transfer{id: id, hostname: host, filename: name, checksum: checksum, total: total,
			received: map[int]int64{}, created: r.now(), direction: "upload"}
		t.m[id] = x
	} else if x.direction != "upload" || x.complete || x.hostname != host || x.checksum != checksum || x.total != total {
		httpx.WriteError(w, http.StatusConflict, "Transfer headers do not match the transfer")
		return
	}
	prev := x.received[idx]
	if x.bytes-prev+int64(len(data)) > maxFile {
		delete(t.m, id)
		t.removeChunks(x)
		httpx.WriteError(w, http.StatusRequestEntityTooLarge, "File too large (max 50MB)")
		return
	}
	if err := os.WriteFile(t.chunkPath(id, idx), data, 0o600); err != nil {
		httpx.WriteErr(w, fmt.Errorf("write chunk: %w", err))
		return
	}
	x.bytes += int64(len(data)) - prev
	x.received[idx] = int64(len(data))
	resp := map[string]any{"status": "ok", "received": idx, "progress": fmt.Sprintf("%d/%d", len(x.received), x.total)}
	if len(x.received) == x.total {
		final := filepath.Join(t.dir, id+"_"+x.filename)
		sum, err := t.assemble(x, final)
		if err != nil {
			delete(t.m, id)
			httpx.WriteErr(w, err)
			return
		}
		if strings.HasPrefix(x.checksum, "sha256:") && sum != x.checksum {
			_ = os.Remove(final)
			delete(t.m, id)
			httpx.WriteError(w, http.StatusBadRequest, fmt.Sprintf("Checksum mismatch: expected %s, got %s", x.checksum, sum))
			return
		}
		x.complete, x.path = true, final
		resp["complete"], resp["path"] = true, final
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
}

func (t *transfers) chunkPath(id string, i int) string {
	return filepath.Join(t.dir, fmt.Sprintf("%s.chunk%d", id, i))
}

func (t *transfers) removeChunks(x *transfer) {
	for i := range x.received {
		_ = os.Remove(t.chunkPath(x.id, i))
	}
}

// assemble concatenates the chunks into final and returns "sha256:<hex>".
func (t *transfers) assemble(x *transfer, final string) (string, error) {
	defer t.removeChunks(x)
	f, err := os.OpenFile(final, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("assemble: %w", err)
	}
	hs := sha256.New()
	for i := 0; i < x.total; i++ {
		b, err := os.ReadFile(t.chunkPath(x.id, i))
		if err != nil {
			f.Close()
			_ = os.Remove(final)
			return "", fmt.Errorf("assemble chunk %d: %w", i, err)
		}
		hs.Write(b)
		if _, err := f.Write(b); err != nil {
			f.Close()
			_ = os.Remove(final)
			return "", fmt.Errorf("assemble: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("assemble: %w", err)
	}
	return "sha256:" + hex.EncodeToString(hs.Sum(nil)), nil
}

// fileDownload serves GET /api/agent/file-download/{transfer_id}.
func (r *Room) fileDownload(w http.ResponseWriter, req *http.Request) {
	pk, kerr := r.checkKey(req, false, "Invalid agent key", true)
	if kerr != nil {
		kerr.write(w)
		return
	}
	id := req.PathValue("transfer_id")
	if !wire.ValidTransferID(id) {
		httpx.WriteError(w, http.StatusNotFound, "Transfer not found")
		return
	}
	t := r.xfers
	t.mu.Lock()
	x := t.m[id]
	var path, name, sum, host string
	var dir string
	if x != nil {
		path, name, sum, host, dir = x.path, x.filename, x.checksum, x.hostname, x.direction
	}
	t.mu.Unlock()
	if x == nil {
		httpx.WriteError(w, http.StatusNotFound, "Transfer not found")
		return
	}
	if dir != "download" {
		httpx.WriteError(w, http.StatusBadRequest, "Not a download transfer")
		return
	}
	if hh := req.Header.Get(wire.HeaderAgentHostname); (hh != "" && hh != host) || !pk.allows(host) {
		httpx.WriteError(w, http.StatusForbidden, "Transfer belongs to another agent")
		return
	}
	f, err := os.Open(path)
	if err != nil {
		httpx.WriteError(w, http.StatusNotFound, "File not found")
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set(wire.HeaderFileChecksum, sum)
	if st, err := f.Stat(); err == nil {
		w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	}
	_, _ = io.Copy(w, f)
}

// filePush serves POST /api/agents/{hostname}/transfer?path=DEST: the body
// is the file, pushed to the agent with a file_push command.
func (r *Room) filePush(w http.ResponseWriter, req *http.Request) {
	host := req.PathValue("hostname")
	if !wire.ValidHostname(host) {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid hostname")
		return
	}
	dest := req.URL.Query().Get("path")
	if dest == "" {
		httpx.WriteError(w, http.StatusBadRequest, "Destination path required (?path=...)")
		return
	}
	if err := wire.CheckPath(dest); err != nil {
		httpx.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	t := r.xfers
	if err := t.ensureDir(); err != nil {
		httpx.WriteErr(w, err)
		return
	}
	id := wire.NewID(16)
	name := safeName(filepath.Base(dest))
	if name == "unknown" {
		name = "file"
	}
	final := filepath.Join(t.dir, id+"_"+name)
	f, err := os.OpenFile(final, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		httpx.WriteErr(w, fmt.Errorf("push: %w", err))
		return
	}
	hs := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, hs), http.MaxBytesReader(w, req.Body, maxFile))
	cerr := f.Close()
	if err != nil {
		_ = os.Remove(final)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			httpx.WriteError(w, http.StatusRequestEntityTooLarge, "File too large (max 50MB)")
			return
		}
		httpx.WriteError(w, http.StatusBadRequest, "Could not read the request body")
		return
	}
	if cerr != nil {
		_ = os.Remove(final)
		httpx.WriteErr(w, cerr)
		return
	}
	sum := "sha256:" + hex.EncodeToString(hs.Sum(nil))
	t.mu.Lock()
	t.m[id] = &transfer{id: id, hostname: host, filename: name, checksum: sum, total: 1, received: map[int]int64{0: n},
		bytes: n, created: r.now(), direction: "download", path: final, dest: dest, complete: true}
	t.mu.Unlock()
	ctx := req.Context()
	p := authz.Must(ctx)
	cmdID, ws := r.dispatch(ctx, host, wire.CmdFilePush, map[string]any{"path": dest, "transfer_id": id}, p.Username, sendOpts{record: true})
	r.audit(ctx, "agent_file_push", p.Username, fmt.Sprintf("host=%s path=%s id=%s", host, dest, id), httpx.ClientIP(ctx))
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "queued", "transfer_id": id, "cmd_id": cmdID, "websocket": ws})
}

// SweepTransfers deletes transfers (and their files) older than an hour,
// and orphan files in the transfer directory.
func (r *Room) SweepTransfers(ctx context.Context) error {
	t := r.xfers
	now := r.now()
	t.mu.Lock()
	for id, x := range t.m {
		if now.Sub(x.created) > transferTTL {
			t.removeChunks(x)
			if x.path != "" {
				_ = os.Remove(x.path)
			}
			delete(t.m, id)
		}
	}
	live := map[string]bool{}
	for id := range t.m {
		live[id] = true
	}
	t.mu.Unlock()
	ents, err := os.ReadDir(t.dir)
	if err != nil {
		return nil
	}
	for _, e := range ents {
		name := e.Name()
		if len(name) < 32 || live[name[:32]] {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > transferTTL {
			_ = os.Remove(filepath.Join(t.dir, name))
		}
	}
	return nil
}

// SweepQueues drops pending queues older than 10 minutes and marks their
// commands expired in the history.
func (r *Room) SweepQueues(ctx context.Context) error {
	now := r.now()
	ids := r.hub.expireQueues(now)
	if err := r.d.Store.ExpireCommands(ctx, ids); err != nil {
		return err
	}
	cutoff := now.Add(-sentMaxAge).Unix()
	r.hub.forgetIssued(cutoff)
	_, err := r.d.Store.ExpireSentBefore(ctx, cutoff)
	return err
}
