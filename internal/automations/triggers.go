package automations

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/noba-go/noba/internal/httpx"
)

// cronParser reads 5-field cron expressions with standard semantics (names
// and @descriptors accepted, day-of-month and day-of-week OR-ed, 7 =
// Sunday), like the maintenance windows of the alerts room.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// validSchedule reports whether s is a cron expression the scheduler reads.
func validSchedule(s string) error {
	if _, err := cronParser.Parse(strings.TrimSpace(s)); err != nil {
		return httpx.Invalid("Invalid schedule '%s' — expected 5 cron fields (minute hour day month weekday): %v", s, err)
	}
	return nil
}

// cronMatches reports whether expr fires in the minute of now (evaluated
// in now's location: the scheduler passes server local time).
func cronMatches(expr string, now time.Time) bool {
	sched, err := cronParser.Parse(strings.TrimSpace(expr))
	if err != nil {
		return false
	}
	floor := now.Truncate(time.Minute)
	return sched.Next(floor.Add(-time.Second)).Equal(floor)
}

// Tick is one scheduler tick (spec 30 §1.8.2 with its fix): unless a
// maintenance window is active, every enabled automation whose schedule
// matches the minute of now starts (graph workflows too); approvals are
// swept whether or not a window is active.
func (r *Room) Tick(ctx context.Context, now time.Time) error {
	if r.d.Maintenance != nil && r.d.Maintenance.InMaintenance("", now) {
		r.d.Log.Info("scheduler: maintenance window active, scheduled automations skipped")
	} else {
		autos, err := r.d.Store.List(ctx, "")
		if err != nil {
			return err
		}
		for _, a := range autos {
			if !a.Enabled || a.Schedule == nil || !cronMatches(*a.Schedule, now.In(time.Local)) {
				continue
			}
			if _, err := r.start(ctx, a, origin{trigger: "schedule:" + *a.Schedule, by: "scheduler", wait: true}); err != nil {
				r.d.Log.Warn("scheduled automation not started", "id", a.ID, "err", err)
			}
		}
	}
	return r.AutoApprove(ctx)
}

// triggerEntries reads a settings list of {path|url, automation_id}.
func (r *Room) triggerEntries(key, field string) [][2]string {
	var out [][2]string
	for _, e := range list(r.settings()[key]) {
		m := obj(e)
		if v, id := str(m, field), str(m, "automation_id"); v != "" && id != "" {
			out = append(out, [2]string{v, id})
		}
	}
	return out
}

// fire starts an automation from an automatic trigger (disabled ones are skipped).
func (r *Room) fire(ctx context.Context, id, trigger, by string) {
	a, err := r.d.Store.Get(ctx, id)
	if err != nil || !a.Enabled {
		return
	}
	if _, err := r.start(ctx, a, origin{trigger: trigger, by: by, wait: true, noRetries: true}); err != nil {
		r.d.Log.Warn("triggered automation not started", "id", id, "trigger", trigger, "err", err)
	}
}

// PollFiles is one poll of the file-watch triggers (settings fsTriggers:
// [{path, automation_id}], re-read every poll): a path whose mtime grew
// since the last poll fires its automation. The first sighting of a path
// only records its mtime.
func (r *Room) PollFiles(ctx context.Context) error {
	for _, e := range r.triggerEntries("fsTriggers", "path") {
		path, id := e[0], e[1]
		st, err := os.Stat(path)
		if err != nil {
			continue
		}
		key := path + "\x00" + id
		r.fsMu.Lock()
		last, seen := r.fsSeen[key]
		r.fsSeen[key] = st.ModTime()
		r.fsMu.Unlock()
		if seen && st.ModTime().After(last) {
			r.fire(ctx, id, "fs-trigger:"+path, "fs-watcher")
		}
	}
	return nil
}

// feed reads RSS <item> and Atom <entry> ids (guid or link; Atom id).
type feed struct {
	Items []struct {
		GUID string `xml:"guid"`
		Link string `xml:"link"`
	} `xml:"channel>item"`
	Entries []struct {
		ID   string `xml:"id"`
		Link struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
	} `xml:"entry"`
}

// feedIDs fetches a feed (10 s, no redirects, guarded dialer, 1 MiB cap)
// and returns its item ids.
func (r *Room) feedIDs(ctx context.Context, url string) (map[string]bool, error) {
	ctx, cancel := withTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("feed %s: HTTP %d", url, resp.StatusCode)
	}
	var f feed
	dec := xml.NewDecoder(io.LimitReader(resp.Body, 1<<20))
	dec.Strict = false
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("feed %s: %w", url, err)
	}
	ids := map[string]bool{}
	for _, it := range f.Items {
		if id := strings.TrimSpace(it.GUID); id != "" {
			ids[id] = true
		} else if l := strings.TrimSpace(it.Link); l != "" {
			ids[l] = true
		}
	}
	for _, e := range f.Entries {
		if id := strings.TrimSpace(e.ID); id != "" {
			ids[id] = true
		} else if l := strings.TrimSpace(e.Link.Href); l != "" {
			ids[l] = true
		}
	}
	return ids, nil
}

// PollFeeds is one poll of the RSS triggers (settings rssTriggers: [{url,
// automation_id}]): the first fetch of a feed seeds its seen set; later,
// one or more new items fire the automation once.
func (r *Room) PollFeeds(ctx context.Context) error {
	for _, e := range r.triggerEntries("rssTriggers", "url") {
		url, id := e[0], e[1]
		ids, err := r.feedIDs(ctx, url)
		if err != nil {
			r.d.Log.Debug("rss trigger fetch failed", "url", url, "err", err)
			continue
		}
		key := url + "\x00" + id
		r.rssMu.Lock()
		seen, had := r.rssSeen[key]
		r.rssSeen[key] = ids
		r.rssMu.Unlock()
		if !had {
			continue
		}
		for k := range ids {
			if !seen[k] {
				r.fire(ctx, id, "rss:"+url, "rss-watcher")
				break
			}
		}
	}
	return nil
}
