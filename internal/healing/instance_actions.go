package healing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Instance is an integration instance (router 10) as the instance-based
// actions need it: its platform, base URL and credentials in the clear
// (server side only, never in a result), and an HTTP client that honours
// its verify_ssl and ca_bundle.
type Instance struct {
	ID       string
	Platform string
	URL      string
	Auth     map[string]any
	Client   *http.Client
}

// Instances looks up integration instances (the instances room).
type Instances interface {
	Instance(ctx context.Context, id string) (Instance, error)
}

// instanceOps are the platforms each instance-based action speaks to
// (spec 30 §3 registry: dns, media_management, media).
var instanceOps = map[string]map[string]func(ctx context.Context, in Instance, p map[string]any) (string, error){
	"dns_cache_clear": {"pihole": piholeRestartDNS, "adguard": adguardCacheClear},
	"servarr_queue_cleanup": {"sonarr": servarrQueueCleanup, "radarr": servarrQueueCleanup, "lidarr": servarrQueueCleanup,
		"readarr": servarrQueueCleanup},
	"media_library_scan": {"plex": plexLibraryScan, "jellyfin": jellyfinLibraryRefresh, "emby": jellyfinLibraryRefresh},
}

// instanceAction returns the local handler of an instance-based action:
// it looks the instance up and calls the documented API of its platform.
func instanceAction(name string) func(ctx context.Context, x *Executor, p map[string]any, target string) Result {
	return func(ctx context.Context, x *Executor, p map[string]any, _ string) Result {
		id := str(p, "instance_id")
		if id == "" {
			return Result{Error: name + " needs instance_id (an integration instance)"}
		}
		if x.d.Instances == nil {
			return Result{Error: "Integration instances are not available on this server"}
		}
		in, err := x.d.Instances.Instance(ctx, id)
		if err != nil {
			return Result{Error: fmt.Sprintf("Integration instance %s: %v", id, err)}
		}
		ops := instanceOps[name]
		op, ok := ops[strings.ToLower(in.Platform)]
		if !ok {
			return Result{Error: fmt.Sprintf("%s does not support platform %q (supported: %s)", name, in.Platform,
				strings.Join(slices.Sorted(maps.Keys(ops)), ", "))}
		}
		if in.Client == nil {
			in.Client = &http.Client{Timeout: 30 * time.Second}
		}
		in.URL = strings.TrimRight(strings.TrimSpace(in.URL), "/")
		if u, err := url.Parse(in.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Result{Error: fmt.Sprintf("Integration instance %s has no usable http(s) URL", id)}
		}
		out, err := op(ctx, in, p)
		if err != nil {
			return Result{Output: trunc(out), Error: fmt.Sprintf("%s on %s (%s): %v", name, in.ID, in.Platform, err)}
		}
		return Result{Success: true, Output: trunc(out)}
	}
}

// authValue is the first non-empty credential of keys.
func authValue(in Instance, keys ...string) string {
	for _, k := range keys {
		if v, ok := in.Auth[k].(string); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// statusError is a non-2xx answer.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	switch e.code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("HTTP %d: credentials rejected", e.code)
	}
	if e.body != "" {
		return fmt.Sprintf("HTTP %d: %s", e.code, e.body)
	}
	return fmt.Sprintf("HTTP %d", e.code)
}

// call sends one request and returns the (bounded) body of a 2xx answer.
func call(ctx context.Context, in Instance, method, path string, hdr http.Header, body any) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, in.URL+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := in.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err // without the URL (it may carry a token)
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode/100 != 2 {
		return b, &statusError{code: resp.StatusCode, body: trunc(strings.TrimSpace(string(b)))}
	}
	return b, nil
}

// piholeRestartDNS restarts Pi-hole's resolver, which empties its cache:
// v6 (POST /api/auth for a session, POST /api/action/restartdns, DELETE
// /api/auth), else the v5 API (/admin/api.php?restartdns&auth=<token>).
func piholeRestartDNS(ctx context.Context, in Instance, _ map[string]any) (string, error) {
	in.URL = strings.TrimSuffix(in.URL, "/admin")
	pw := authValue(in, "password", "app_password")
	h := http.Header{}
	v5 := false
	if pw != "" {
		b, err := call(ctx, in, http.MethodPost, "/api/auth", nil, map[string]string{"password": pw})
		var se *statusError
		switch {
		case errors.As(err, &se) && (se.code == http.StatusNotFound || se.code == http.StatusMethodNotAllowed):
			v5 = true
		case err != nil:
			return "", fmt.Errorf("login: %w", err)
		default:
			var auth struct {
				Session struct {
					Valid   bool   `json:"valid"`
					SID     string `json:"sid"`
					Message string `json:"message"`
				} `json:"session"`
			}
			if err := json.Unmarshal(b, &auth); err != nil || !auth.Session.Valid {
				return "", fmt.Errorf("login refused: %s", auth.Session.Message)
			}
			if auth.Session.SID != "" {
				h.Set("sid", auth.Session.SID)
				defer func() {
					_, _ = call(context.WithoutCancel(ctx), in, http.MethodDelete, "/api/auth", h, nil)
				}()
			}
		}
	}
	if !v5 {
		_, err := call(ctx, in, http.MethodPost, "/api/action/restartdns", h, nil)
		var se *statusError
		if err == nil {
			return "Pi-hole DNS restarted (cache flushed)", nil
		}
		if !errors.As(err, &se) || se.code != http.StatusNotFound {
			return "", err
		}
	}
	q := "restartdns"
	if tok := authValue(in, "token", "api_key", "password"); tok != "" {
		q += "&auth=" + url.QueryEscape(tok)
	}
	b, err := call(ctx, in, http.MethodGet, "/admin/api.php?"+q, nil, nil)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(strings.TrimSpace(string(b)), "[]") {
		return "", errors.New("credentials rejected")
	}
	return "Pi-hole DNS restarted (cache flushed)", nil
}

// adguardCacheClear is AdGuard Home's POST /control/cache_clear (basic auth).
func adguardCacheClear(ctx context.Context, in Instance, _ map[string]any) (string, error) {
	h := http.Header{}
	if u := authValue(in, "username", "user"); u != "" {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.SetBasicAuth(u, authValue(in, "password"))
		h.Set("Authorization", r.Header.Get("Authorization"))
	}
	if _, err := call(ctx, in, http.MethodPost, "/control/cache_clear", h, nil); err != nil {
		return "", err
	}
	return "AdGuard Home DNS cache cleared", nil
}

// servarrQueueCleanup removes the failed items of a Sonarr/Radarr
// (API v3) or Lidarr/Readarr (API v1) download queue: GET queue, then
// DELETE /queue/bulk with their ids (removed from the download client and
// blocklisted so the release is not grabbed again).
func servarrQueueCleanup(ctx context.Context, in Instance, p map[string]any) (string, error) {
	key := authValue(in, "api_key", "apikey", "token")
	if key == "" {
		return "", errors.New("the instance has no api_key")
	}
	ver := "v3"
	switch strings.ToLower(in.Platform) {
	case "lidarr", "readarr":
		ver = "v1"
	}
	h := http.Header{"X-Api-Key": {key}}
	b, err := call(ctx, in, http.MethodGet, "/api/"+ver+"/queue?page=1&pageSize=1000", h, nil)
	if err != nil {
		return "", fmt.Errorf("read queue: %w", err)
	}
	var q struct {
		Records []struct {
			ID                    int64  `json:"id"`
			Title                 string `json:"title"`
			Status                string `json:"status"`
			TrackedDownloadStatus string `json:"trackedDownloadStatus"`
			TrackedDownloadState  string `json:"trackedDownloadState"`
			ErrorMessage          string `json:"errorMessage"`
		} `json:"records"`
	}
	if err := json.Unmarshal(b, &q); err != nil {
		return "", fmt.Errorf("read queue: %w", err)
	}
	var ids []int64
	var titles []string
	for _, r := range q.Records {
		if strings.EqualFold(r.Status, "failed") || strings.EqualFold(r.TrackedDownloadStatus, "error") ||
			strings.EqualFold(r.TrackedDownloadState, "failedPending") || strings.EqualFold(r.TrackedDownloadState, "importFailed") {
			ids = append(ids, r.ID)
			titles = append(titles, r.Title)
		}
	}
	if len(ids) == 0 {
		return fmt.Sprintf("%s queue: no failed items (%d queued)", in.Platform, len(q.Records)), nil
	}
	blocklist := p["blocklist"] != false
	path := "/api/" + ver + "/queue/bulk?removeFromClient=true&blocklist=" + strconv.FormatBool(blocklist)
	if _, err := call(ctx, in, http.MethodDelete, path, h, map[string]any{"ids": ids}); err != nil {
		return "", fmt.Errorf("remove failed items: %w", err)
	}
	return fmt.Sprintf("%s queue: removed %d failed item(s): %s", in.Platform, len(ids), strings.Join(titles, ", ")), nil
}

// plexLibraryScan is Plex's GET /library/sections/{id|all}/refresh with
// the X-Plex-Token header (params.section: a section key, default all).
func plexLibraryScan(ctx context.Context, in Instance, p map[string]any) (string, error) {
	tok := authValue(in, "token", "api_key")
	if tok == "" {
		return "", errors.New("the instance has no token")
	}
	sec := str(p, "section")
	if sec == "" {
		sec = "all"
	} else if _, err := strconv.Atoi(sec); err != nil {
		return "", fmt.Errorf("section must be a library section number, not %q", sec)
	}
	if _, err := call(ctx, in, http.MethodGet, "/library/sections/"+sec+"/refresh", http.Header{"X-Plex-Token": {tok}}, nil); err != nil {
		return "", err
	}
	return "Plex library scan started (section " + sec + ")", nil
}

// jellyfinLibraryRefresh is Jellyfin's (and Emby's) POST /Library/Refresh
// with the X-Emby-Token header.
func jellyfinLibraryRefresh(ctx context.Context, in Instance, _ map[string]any) (string, error) {
	tok := authValue(in, "api_key", "apikey", "token")
	if tok == "" {
		return "", errors.New("the instance has no api_key")
	}
	if _, err := call(ctx, in, http.MethodPost, "/Library/Refresh", http.Header{"X-Emby-Token": {tok}}, nil); err != nil {
		return "", err
	}
	return in.Platform + " library scan started", nil
}
