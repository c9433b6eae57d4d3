// Package kuma reads the monitor states of Uptime Kuma for the stats
// payload's "kuma" list. Two documented read APIs are supported, chosen
// by the configured kumaUrl:
//   - a status-page URL (http://kuma:3001/status/<slug>): the public
//     status-page API, GET /api/status-page/<slug> (monitor names) and
//     GET /api/status-page/heartbeat/<slug> (latest heartbeat per monitor),
//     no credential needed;
//   - any other URL: the Prometheus endpoint GET <url>/metrics
//     (monitor_status{monitor_name=...} 0/1/2/3), with HTTP basic auth
//     (empty user, the API key kumaKey as password) when kumaKey is set.
package kuma

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Uptime Kuma integration (payload key "kuma").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "kuma".
func (p *Provider) Key() string { return "kuma" }

// List is true: the block is a list, [] when not configured.
func (p *Provider) List() bool { return true }

// Configured reports whether kumaUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("kumaUrl") != "" }

// statusName maps Uptime Kuma's heartbeat status codes.
func statusName(v int) string {
	switch v {
	case 1:
		return "Up"
	case 2:
		return "Pending"
	case 3:
		return "Maintenance"
	}
	return "Down"
}

// Fetch returns [{"name","status":"Up|Down|Pending|Maintenance"}] sorted by name.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("kumaUrl"))
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(base)
	var list []map[string]any
	if i := strings.Index(u.Path, "/status/"); i >= 0 {
		slug := strings.Trim(u.Path[i+len("/status/"):], "/")
		if slug == "" || strings.Contains(slug, "/") {
			return nil, fmt.Errorf("%w: bad status page URL", provider.ErrUnauthorized)
		}
		u.Path = u.Path[:i]
		list, err = p.statusPage(ctx, strings.TrimRight(u.String(), "/"), slug)
	} else {
		if !strings.HasSuffix(u.Path, "/metrics") {
			u.Path = strings.TrimRight(u.Path, "/") + "/metrics"
		}
		list, err = p.metrics(ctx, u.String(), st.String("kumaKey"))
	}
	if err != nil {
		return nil, err
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i]["name"].(string) < list[j]["name"].(string) })
	out := make([]any, 0, len(list))
	for _, m := range list {
		out = append(out, m)
	}
	return out, nil
}

func (p *Provider) statusPage(ctx context.Context, origin, slug string) ([]map[string]any, error) {
	var page struct {
		PublicGroupList []struct {
			MonitorList []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			} `json:"monitorList"`
		} `json:"publicGroupList"`
	}
	esc := url.PathEscape(slug)
	if err := p.c.JSON(ctx, provider.Request{URL: origin + "/api/status-page/" + esc}, &page); err != nil {
		if provider.HasStatus(err, http.StatusNotFound) {
			return nil, fmt.Errorf("%w: no status page %q", provider.ErrUnauthorized, slug)
		}
		return nil, err
	}
	var beats struct {
		HeartbeatList map[string][]struct {
			Status int `json:"status"`
		} `json:"heartbeatList"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: origin + "/api/status-page/heartbeat/" + esc}, &beats); err != nil {
		return nil, err
	}
	var out []map[string]any
	seen := map[int64]bool{}
	for _, g := range page.PublicGroupList {
		for _, m := range g.MonitorList {
			if seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			status := "Pending" // no heartbeat yet
			if hb := beats.HeartbeatList[strconv.FormatInt(m.ID, 10)]; len(hb) > 0 {
				status = statusName(hb[len(hb)-1].Status)
			}
			out = append(out, map[string]any{"name": m.Name, "status": status})
		}
	}
	return out, nil
}

func (p *Provider) metrics(ctx context.Context, u, key string) ([]map[string]any, error) {
	h := http.Header{"Accept": {"text/plain"}}
	if key != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(":"+key)))
	}
	data, err := p.c.Do(ctx, provider.Request{URL: u, Header: h})
	if err != nil {
		return nil, err
	}
	return parseMetrics(data)
}

// parseMetrics reads the monitor_status samples of a Prometheus text exposition.
func parseMetrics(data []byte) ([]map[string]any, error) {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) { // an HTML page (login proxy), not metrics
		return nil, fmt.Errorf("kuma metrics: not a Prometheus exposition")
	}
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "monitor_status{") {
			continue
		}
		labels, rest, ok := splitLabels(line[len("monitor_status{"):])
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil || labels["monitor_name"] == "" {
			continue
		}
		out = append(out, map[string]any{"name": labels["monitor_name"], "status": statusName(int(v))})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("kuma metrics: %w", err)
	}
	return out, nil
}

// splitLabels parses `a="x",b="y\"z"} rest` into labels and rest.
func splitLabels(s string) (map[string]string, string, bool) {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ,")
		if strings.HasPrefix(s, "}") {
			return labels, s[1:], true
		}
		eq := strings.Index(s, "=\"")
		if eq <= 0 {
			return nil, "", false
		}
		name := strings.TrimSpace(s[:eq])
		s = s[eq+2:]
		var b strings.Builder
		i := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					b.WriteByte('\n')
				default:
					b.WriteByte(s[i])
				}
				continue
			}
			if c == '"' {
				break
			}
			b.WriteByte(c)
		}
		if i >= len(s) {
			return nil, "", false
		}
		labels[name] = b.String()
		s = s[i+1:]
	}
}
