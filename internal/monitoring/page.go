package monitoring

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

//go:embed assets/status.css assets/favicon.svg
var assets embed.FS

//go:embed assets/status.html
var statusHTML string

var (
	statusTmpl = template.Must(template.New("status").Parse(statusHTML))
)

var banners = map[string]string{
	"operational":  "All Systems Operational",
	"degraded":     "Partial System Degradation",
	"major_outage": "Major Outage",
}

var statusLabels = map[string]string{
	"operational": "Operational", "degraded": "Degraded", "outage": "Outage", "unknown": "Unknown",
	"investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring", "resolved": "Resolved",
}

type pageCell struct{ Class, Title string }

type pageComponent struct {
	Name, Status, StatusLabel, Uptime string
	Days                              []pageCell
}

type pageGroup struct {
	Name       string
	Components []pageComponent
}

type pageUpdate struct{ Status, Message, Created string }

type pageIncident struct {
	Title, Severity, StatusLabel, Created, ResolvedAt string
	Updates                                           []pageUpdate
}

type pageData struct {
	Updated, Overall, Banner string
	Groups                   []pageGroup
	Active, Resolved         []pageIncident
}

func uptimeClass(p *float64) string {
	switch {
	case p == nil:
		return "u-none"
	case *p >= 99.95:
		return "u-full"
	case *p >= 99:
		return "u-high"
	case *p >= 95:
		return "u-mid"
	}
	return "u-low"
}

// dayCell draws one day of a component's bar: a monitor's uptime, or for
// a component without a monitor the day's worst incident; no data in grey.
func dayCell(d StatusDayCell) pageCell {
	switch {
	case d.State == "no_data" || d.State == "":
		return pageCell{Class: "u-none", Title: d.Date + ": no data"}
	case d.Percent != nil:
		return pageCell{Class: uptimeClass(d.Percent), Title: fmt.Sprintf("%s: %.2f%% up", d.Date, *d.Percent)}
	case d.State == "none":
		return pageCell{Class: "sev-none", Title: d.Date + ": no incidents"}
	}
	return pageCell{Class: "sev-" + d.State, Title: d.Date + ": " + d.State + " incident"}
}

func (r *Room) pageIncident(in StatusIncident) pageIncident {
	f := func(ts int64) string { return time.Unix(ts, 0).In(r.d.Location).Format("Jan 2, 2006 15:04 MST") }
	pi := pageIncident{Title: in.Title, Severity: in.Severity, StatusLabel: statusLabels[in.Status], Created: f(in.CreatedAt)}
	if in.ResolvedAt != nil {
		pi.ResolvedAt = f(*in.ResolvedAt)
	}
	for _, u := range in.Updates {
		pi.Updates = append(pi.Updates, pageUpdate{Status: u.Status, Message: u.Message, Created: f(u.CreatedAt)})
	}
	return pi
}

// statusPage serves GET /status: the public status page, rendered on the
// server (no script; a meta refresh reloads it every 30 s). The rendering
// is kept with the cached public view.
func (r *Room) statusPage(w http.ResponseWriter, req *http.Request) {
	v, err := r.publicView(req.Context())
	if err == nil {
		v.htmlOnce.Do(func() { v.html, v.htmlErr = r.renderPage(v) })
		err = v.htmlErr
	}
	if err != nil {
		r.d.Log.Error("status page", "err", err)
		http.Error(w, "Status temporarily unavailable", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(v.html)
}

func (r *Room) renderPage(v *publicView) ([]byte, error) {
	ps, all := v.status, v.incidents
	pd := pageData{Updated: v.at.In(r.d.Location).Format("Jan 2, 2006 15:04:05 MST"), Overall: ps.Overall, Banner: banners[ps.Overall]}
	groupIdx := map[string]int{}
	for _, c := range ps.Components {
		pc := pageComponent{Name: c.Name, Status: c.Status, StatusLabel: statusLabels[c.Status]}
		if c.UptimePercent != nil {
			pc.Uptime = fmt.Sprintf("%s%% uptime", strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", *c.UptimePercent), "0"), "."))
		}
		for _, d := range c.UptimeDays {
			pc.Days = append(pc.Days, dayCell(d))
		}
		i, ok := groupIdx[c.GroupName]
		if !ok {
			i = len(pd.Groups)
			groupIdx[c.GroupName] = i
			pd.Groups = append(pd.Groups, pageGroup{Name: c.GroupName})
		}
		pd.Groups[i].Components = append(pd.Groups[i].Components, pc)
	}
	for _, in := range ps.ActiveIncidents {
		pd.Active = append(pd.Active, r.pageIncident(in))
	}
	for _, in := range all {
		if in.ResolvedAt != nil && len(pd.Resolved) < 10 {
			pd.Resolved = append(pd.Resolved, r.pageIncident(in))
		}
	}
	var buf bytes.Buffer
	if err := statusTmpl.Execute(&buf, pd); err != nil {
		return nil, fmt.Errorf("render status page: %w", err)
	}
	return buf.Bytes(), nil
}

// assetTypes are the files under /status/assets/ and their types.
var assetTypes = map[string]string{
	"status.css":  "text/css; charset=utf-8",
	"favicon.svg": "image/svg+xml",
}

// statusAsset serves the page's stylesheet and icon from the binary.
func statusAsset(w http.ResponseWriter, req *http.Request) {
	name := req.PathValue("file")
	ct, ok := assetTypes[name]
	if !ok {
		http.NotFound(w, req)
		return
	}
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		http.NotFound(w, req)
		return
	}
	sum := sha256.Sum256(b)
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(b))
}
