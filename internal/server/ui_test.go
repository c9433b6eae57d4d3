package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func uiApp() fstest.MapFS {
	return fstest.MapFS{
		"index.html":              {Data: []byte(`<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="app"></div></body></html>`)},
		"assets/index-abc123.js":  {Data: []byte(strings.Repeat("console.log('noba');\n", 200))},
		"assets/index-abc123.css": {Data: []byte("body{margin:0}")},
		"favicon.svg":             {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
		".gitkeep":                {Data: nil},
	}
}

func uiGet(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestUIServesAppRoutesWithIndex(t *testing.T) {
	h := uiHandler(uiApp())
	for _, p := range []string{"/", "/index.html", "/agents", "/agents/web-01", "/settings/users", "/monitoring/sla?x=1"} {
		w := uiGet(t, h, http.MethodGet, p, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: got %d, want 200", p, w.Code)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", p, got)
		}
		if !strings.Contains(w.Body.String(), `<div id="app">`) {
			t.Errorf("GET %s: body is not index.html: %q", p, w.Body.String())
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q, want text/html", p, ct)
		}
	}
}

func TestUIAssetsAreImmutableAndCompressed(t *testing.T) {
	h := uiHandler(uiApp())
	w := uiGet(t, h, http.MethodGet, "/assets/index-abc123.js", map[string]string{"Accept-Encoding": "gzip, br"})
	if w.Code != http.StatusOK {
		t.Fatalf("got %d, want 200", w.Code)
	}
	if got := w.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q, want a year, immutable", got)
	}
	if ct := w.Header().Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("Content-Type %q, want javascript", ct)
	}
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", w.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if string(plain) != string(uiApp()["assets/index-abc123.js"].Data) {
		t.Errorf("gunzipped body differs from the file")
	}

	// Without Accept-Encoding (or with gzip;q=0) the file is sent as is.
	for _, ae := range []string{"", "gzip;q=0", "br"} {
		w = uiGet(t, h, http.MethodGet, "/assets/index-abc123.js", map[string]string{"Accept-Encoding": ae})
		if w.Header().Get("Content-Encoding") != "" || !strings.HasPrefix(w.Body.String(), "console.log") {
			t.Errorf("Accept-Encoding %q: got encoding %q", ae, w.Header().Get("Content-Encoding"))
		}
	}
	// Small files are not compressed.
	w = uiGet(t, h, http.MethodGet, "/assets/index-abc123.css", map[string]string{"Accept-Encoding": "gzip"})
	if w.Body.String() != "body{margin:0}" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") {
		t.Errorf("css: got %q (%s)", w.Body.String(), w.Header().Get("Content-Type"))
	}
}

func TestUIMissingAssetsAre404NotHTML(t *testing.T) {
	h := uiHandler(uiApp())
	for _, p := range []string{"/assets/gone-123.js", "/robots.txt", "/status", "/status/x", "/api/nothing"} {
		w := uiGet(t, h, http.MethodGet, p, nil)
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s: got %d, want 404", p, w.Code)
		}
		if strings.Contains(w.Body.String(), `<div id="app">`) {
			t.Errorf("GET %s: answered with the app page", p)
		}
	}
}

func TestUIMethodsAndHead(t *testing.T) {
	h := uiHandler(uiApp())
	w := uiGet(t, h, http.MethodPost, "/agents", nil)
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: got %d Allow %q, want 405 GET, HEAD", w.Code, w.Header().Get("Allow"))
	}
	w = uiGet(t, h, http.MethodHead, "/favicon.svg", nil)
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("HEAD: got %d with %d body bytes, want 200 and none", w.Code, w.Body.Len())
	}
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "image/svg+xml") {
		t.Errorf("svg Content-Type %q", w.Header().Get("Content-Type"))
	}
}

func TestUIPlaceholderWithoutBuild(t *testing.T) {
	// A fresh clone embeds only dist/.gitkeep.
	h := uiHandler(fstest.MapFS{".gitkeep": {Data: nil}})
	for _, p := range []string{"/", "/agents"} {
		w := uiGet(t, h, http.MethodGet, p, nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "NOBA Command Center") || !strings.Contains(w.Body.String(), "npm --prefix web") {
			t.Errorf("GET %s: got %d %q, want the placeholder page", p, w.Code, w.Body.String())
		}
	}
}
