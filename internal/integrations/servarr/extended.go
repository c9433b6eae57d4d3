package servarr

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Extended is the queue, missing and root-folder view of Radarr or Sonarr
// (payload keys "radarrExtended" / "sonarrExtended").
type Extended struct {
	c   *provider.Client
	app string // "radarr" or "sonarr"
}

// RadarrExtended is Radarr's extended view.
func RadarrExtended(c *provider.Client) *Extended { return &Extended{c: c, app: "radarr"} }

// SonarrExtended is Sonarr's extended view.
func SonarrExtended(c *provider.Client) *Extended { return &Extended{c: c, app: "sonarr"} }

// Key is "<app>Extended".
func (e *Extended) Key() string { return e.app + "Extended" }

// List is false: the block is an object.
func (e *Extended) List() bool { return false }

// Configured reports whether <app>Url is set.
func (e *Extended) Configured(st provider.Settings) bool { return st.String(e.app+"Url") != "" }

func appBase(st provider.Settings, app string) (string, http.Header, error) {
	base, err := provider.BaseURL(st.String(app + "Url"))
	if err != nil {
		return "", nil, err
	}
	key := st.String(app + "Key")
	if key == "" {
		return "", nil, fmt.Errorf("%w: %sKey missing", provider.ErrUnauthorized, app)
	}
	return base + "/api/v3", http.Header{"X-Api-Key": {key}}, nil
}

// Fetch returns {"queue_count","missing","total_space_gb","free_space_gb","service","status":"online"}.
func (e *Extended) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	api, h, err := appBase(st, e.app)
	if err != nil {
		return nil, err
	}
	var queue, missing struct {
		TotalRecords int64 `json:"totalRecords"`
	}
	if err := e.c.JSON(ctx, provider.Request{URL: api + "/queue?page=1&pageSize=1", Header: h}, &queue); err != nil {
		return nil, err
	}
	if err := e.c.JSON(ctx, provider.Request{URL: api + "/wanted/missing?page=1&pageSize=1", Header: h}, &missing); err != nil {
		return nil, err
	}
	var roots []struct {
		TotalSpace float64 `json:"totalSpace"`
		FreeSpace  float64 `json:"freeSpace"`
	}
	if err := e.c.JSON(ctx, provider.Request{URL: api + "/rootfolder", Header: h}, &roots); err != nil {
		return nil, err
	}
	var total, free float64
	for _, r := range roots {
		total += r.TotalSpace
		free += r.FreeSpace
	}
	return map[string]any{"queue_count": queue.TotalRecords, "missing": missing.TotalRecords,
		"total_space_gb": provider.Round1(total / (1 << 30)), "free_space_gb": provider.Round1(free / (1 << 30)),
		"service": e.app, "status": "online"}, nil
}

// Calendar is the upcoming releases of Radarr or Sonarr for the next 7
// days (list payload keys "radarrCalendar" / "sonarrCalendar").
type Calendar struct {
	c   *provider.Client
	app string
	now func() time.Time
}

// RadarrCalendar is Radarr's calendar.
func RadarrCalendar(c *provider.Client) *Calendar {
	return &Calendar{c: c, app: "radarr", now: time.Now}
}

// SonarrCalendar is Sonarr's calendar.
func SonarrCalendar(c *provider.Client) *Calendar {
	return &Calendar{c: c, app: "sonarr", now: time.Now}
}

// Key is "<app>Calendar".
func (k *Calendar) Key() string { return k.app + "Calendar" }

// List is true: the block is a list, [] when not configured.
func (k *Calendar) List() bool { return true }

// Configured reports whether <app>Url is set.
func (k *Calendar) Configured(st provider.Settings) bool { return st.String(k.app+"Url") != "" }

// Fetch returns [{"title","date","type":"movie|episode"}] from
// GET /api/v3/calendar?start=<today>&end=<today+7d>.
func (k *Calendar) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	api, h, err := appBase(st, k.app)
	if err != nil {
		return nil, err
	}
	today := k.now()
	q := url.Values{"start": {today.Format(time.DateOnly)}, "end": {today.AddDate(0, 0, 7).Format(time.DateOnly)}}
	if k.app == "sonarr" {
		q.Set("includeSeries", "true")
	}
	var entries []struct {
		Title           string                  `json:"title"`
		Series          *struct{ Title string } `json:"series"`
		AirDateUtc      string                  `json:"airDateUtc"`
		AirDate         string                  `json:"airDate"`
		InCinemas       string                  `json:"inCinemas"`
		DigitalRelease  string                  `json:"digitalRelease"`
		PhysicalRelease string                  `json:"physicalRelease"`
	}
	if err := k.c.JSON(ctx, provider.Request{URL: api + "/calendar?" + q.Encode(), Header: h, MaxBody: 8 << 20}, &entries); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(entries))
	first := func(vs ...string) string {
		for _, v := range vs {
			if v != "" {
				return v
			}
		}
		return ""
	}
	for _, e := range entries {
		if k.app == "sonarr" || e.Series != nil {
			title := e.Title
			if e.Series != nil && e.Series.Title != "" {
				title = e.Series.Title
			}
			out = append(out, map[string]any{"title": title, "date": first(e.AirDateUtc, e.AirDate), "type": "episode"})
			continue
		}
		out = append(out, map[string]any{"title": e.Title, "date": first(e.InCinemas, e.DigitalRelease, e.PhysicalRelease),
			"type": "movie"})
	}
	return out, nil
}
