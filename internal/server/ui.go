package server

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/web"
)

// UI is the web dashboard's file system (the built single-page app, rooted
// at its index.html). Without an index.html the server answers a short
// placeholder page, as on a fresh clone before `npm run build`.
var UI fs.FS = web.Dist()

const placeholderPage = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>NOBA</title></head><body><h1>NOBA Command Center</h1><p>The dashboard is not built (run <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code>). The API is at <a href=\"/api/health\">/api/health</a>.</p></body></html>"

// uiFile is one file of the app held in memory with its gzip form.
type uiFile struct {
	body, gz []byte
	ctype    string
}

// uiFiles serves the app's files from memory; they never change while the
// process runs (they are embedded), so each is read and compressed once.
type uiFiles struct {
	fsys fs.FS
	mu   sync.Mutex
	m    map[string]*uiFile
}

func (u *uiFiles) get(name string) *uiFile {
	u.mu.Lock()
	defer u.mu.Unlock()
	if f, ok := u.m[name]; ok {
		return f
	}
	var f *uiFile
	if st, err := fs.Stat(u.fsys, name); err == nil && !st.IsDir() {
		if b, err := fs.ReadFile(u.fsys, name); err == nil {
			f = &uiFile{body: b, ctype: mime.TypeByExtension(path.Ext(name))}
			if f.ctype == "" {
				f.ctype = http.DetectContentType(b)
			}
			if compressible(f.ctype) && len(b) > 512 {
				var buf bytes.Buffer
				zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
				_, _ = zw.Write(b)
				_ = zw.Close()
				if buf.Len() < len(b) {
					f.gz = buf.Bytes()
				}
			}
		}
	}
	u.m[name] = f // a miss is remembered too: the file system is immutable
	return f
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") ||
		strings.Contains(ct, "json") || strings.Contains(ct, "svg")
}

// ui serves the embedded single-page app: hashed assets under /assets/ with
// a year-long immutable cache, other files by path, and index.html (never
// cached) for every other GET outside /api/ and /status, so that every view
// of the app is a bookmarkable URL.
func (s *Server) ui() http.Handler { return uiHandler(UI) }

// uiHandler serves the app held in fsys (see ui).
func uiHandler(fsys fs.FS) http.Handler {
	files := &uiFiles{fsys: fsys, m: map[string]*uiFile{}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		if p == "/status" || strings.HasPrefix(p, "/status/") || strings.HasPrefix(p, "/api/") || p == "/api" {
			http.NotFound(w, r)
			return
		}
		index := files.get("index.html")
		if index == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			_, _ = w.Write([]byte(placeholderPage))
			return
		}
		name := strings.TrimPrefix(p, "/")
		f := index
		cache := "no-cache"
		if name != "" && name != "index.html" {
			if hit := files.get(name); hit != nil {
				f = hit
				if strings.HasPrefix(name, "assets/") {
					cache = "public, max-age=31536000, immutable"
				}
			} else if strings.HasPrefix(name, "assets/") || path.Ext(name) != "" {
				// A missing asset must not be answered with the HTML page.
				http.NotFound(w, r)
				return
			}
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("Cache-Control", cache)
		h.Add("Vary", "Accept-Encoding")
		body := f.body
		if f.gz != nil && acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = f.gz
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		q = strings.TrimRight(strings.ReplaceAll(q, " ", ""), "0")
		if strings.TrimSpace(enc) == "gzip" && q != "q=" && q != "q=0." {
			return true
		}
	}
	return false
}
