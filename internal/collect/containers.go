package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// containerCollector lists containers through the Docker or Podman API
// socket (cached 10 s); [] when no runtime answers.
type containerCollector struct {
	mu   sync.Mutex
	at   time.Time
	last []map[string]any
}

func (*containerCollector) name() string { return "containers" }

func (*containerCollector) defaults(p map[string]any) { p["containers"] = []map[string]any{} }

// sockets lists the API sockets to try.
func (h *Host) sockets() []string {
	if h.opts.ContainerSockets != nil {
		return h.opts.ContainerSockets
	}
	s := []string{h.path("var/run/docker.sock"), h.path("run/docker.sock"), h.path("run/podman/podman.sock")}
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && h.opts.Root == "/" {
		s = append(s, filepath.Join(x, "podman", "podman.sock"))
	}
	return s
}

// APIContainer is one entry of the Docker/Podman GET /containers/json.
type APIContainer struct {
	ID     string   `json:"Id"`
	Names  []string `json:"Names"`
	Image  string   `json:"Image"`
	State  string   `json:"State"`
	Status string   `json:"Status"`
}

// ContainerEntries shapes API containers for the payload (first 16).
func ContainerEntries(cs []APIContainer) []map[string]any {
	firstWord := func(s string) string {
		f := strings.Fields(strings.ToLower(s))
		if len(f) == 0 {
			return ""
		}
		return f[0]
	}
	out := []map[string]any{}
	for _, c := range cs[:min(16, len(cs))] {
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		img := c.Image
		if i := strings.LastIndex(img, "/"); i >= 0 {
			img = img[i+1:]
		}
		out = append(out, map[string]any{"id": trunc(c.ID, 12), "name": name, "image": trunc(img, 32),
			"state": firstWord(c.State), "status": firstWord(c.Status)})
	}
	return out
}

// ListContainers asks the API socket at path for every container.
func ListContainers(ctx context.Context, path string) ([]APIContainer, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://runtime/containers/json?all=1", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 3 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("container API %s: %s", path, resp.Status)
	}
	var cs []APIContainer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&cs); err != nil {
		return nil, fmt.Errorf("container API %s: %w", path, err)
	}
	return cs, nil
}

func (c *containerCollector) update(ctx context.Context, h *Host, p map[string]any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && time.Since(c.at) < 10*time.Second {
		p["containers"] = c.last
		return nil
	}
	var lastErr error
	for _, s := range h.sockets() {
		cs, err := ListContainers(ctx, s)
		if err != nil {
			lastErr = err
			continue
		}
		c.last, c.at = ContainerEntries(cs), time.Now()
		p["containers"] = c.last
		return nil
	}
	c.last, c.at = []map[string]any{}, time.Now()
	if lastErr != nil && !os.IsNotExist(lastErr) {
		return lastErr
	}
	return nil
}
