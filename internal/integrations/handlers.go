package integrations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/integrations/frigate"
	"github.com/noba-go/noba/internal/integrations/gameserver"
	"github.com/noba-go/noba/internal/integrations/hass"
	"github.com/noba-go/noba/internal/integrations/influx"
	"github.com/noba-go/noba/internal/integrations/pihole"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/rclone"
	"github.com/noba-go/noba/internal/integrations/scrutiny"
	"github.com/noba-go/noba/internal/integrations/tailscale"
	"github.com/noba-go/noba/internal/integrations/wol"
)

// st returns the current settings.
func (r *Room) st() provider.Settings {
	if r.settings == nil {
		return provider.Settings{}
	}
	return r.settings.View() // shared: read only
}

func (r *Room) record(ctx context.Context, action, details string) {
	if r.audit == nil {
		return
	}
	user := ""
	if p, ok := authz.From(ctx); ok {
		user = p.Username
	}
	r.audit.Record(ctx, action, user, details, httpx.ClientIP(ctx))
}

// status is an error with any status code (422, 424, 504 have no kind of their own).
func status(code int, msg string) error { return httpx.NewBody(code, msg) }

type integAnyOut struct{ Body any }

// ---- cameras (Frigate) ----

func (r *Room) snapshot(w http.ResponseWriter, req *http.Request) {
	raw := r.st().String("frigateUrl")
	if raw == "" {
		httpx.WriteError(w, http.StatusNotFound, "Frigate not configured")
		return
	}
	cam := req.PathValue("cam")
	if !frigate.CameraRE.MatchString(cam) {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid camera name")
		return
	}
	base, err := provider.BaseURL(raw)
	if err != nil {
		httpx.WriteError(w, http.StatusBadGateway, "Failed to fetch snapshot")
		return
	}
	img, err := frigate.Snapshot(req.Context(), r.client, base, cam)
	if err != nil {
		r.log.Warn("frigate snapshot failed", "camera", cam, "err", err)
		httpx.WriteError(w, http.StatusBadGateway, "Failed to fetch snapshot")
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "no-cache, max-age=5")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(img)
}

// Camera is one configured camera feed.
type Camera struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	Type string `json:"type"`
}

type integCamerasOut struct{ Body []Camera }

func (r *Room) cameras(_ context.Context, _ *struct{}) (*integCamerasOut, error) {
	feeds, _ := r.st()["cameraFeeds"].([]any)
	out := []Camera{}
	for i, f := range feeds {
		m, _ := f.(map[string]any)
		url, _ := m["url"].(string)
		if strings.TrimSpace(url) == "" {
			continue
		}
		name, ok := m["name"].(string)
		if !ok || strings.TrimSpace(name) == "" {
			name = fmt.Sprintf("Camera %d", i+1)
		}
		typ, _ := m["type"].(string)
		if typ == "" {
			typ = "snapshot"
		}
		out = append(out, Camera{Name: name, URL: url, Type: typ})
	}
	return &integCamerasOut{Body: out}, nil
}

// ---- Tailscale ----

func (r *Room) tailscaleStatus(ctx context.Context, _ *struct{}) (*integAnyOut, error) {
	st, err := r.tailscale.Read(ctx)
	if errors.Is(err, tailscale.ErrUnavailable) {
		return &integAnyOut{Body: map[string]string{"error": "Tailscale not available"}}, nil
	}
	if err != nil {
		return nil, err
	}
	return &integAnyOut{Body: st}, nil
}

// ---- disk intelligence (Scrutiny) ----

type integDisksOut struct{ Body []scrutiny.Disk }

func (r *Room) diskIntelligence(ctx context.Context, _ *struct{}) (*integDisksOut, error) {
	raw := r.st().String("scrutinyUrl")
	if raw == "" {
		return nil, httpx.NotFound("Scrutiny not configured")
	}
	base, err := provider.BaseURL(raw)
	if err != nil {
		return nil, httpx.Invalid("scrutinyUrl is not a valid http(s) URL")
	}
	key := provider.CacheKey(base)
	if v, ok := r.scrutiny.Get(key); ok {
		return &integDisksOut{Body: v.([]scrutiny.Disk)}, nil
	}
	disks, err := scrutiny.Intelligence(ctx, r.client, base, r.now())
	if err != nil {
		r.log.Warn("scrutiny failed", "err", err)
		return nil, httpx.BadGateway("Scrutiny request failed")
	}
	r.scrutiny.Put(key, disks)
	return &integDisksOut{Body: disks}, nil
}

// ---- blast radius ----

type integBlastIn struct {
	Node string `query:"node" doc:"the service whose blast radius to compute"`
}

type integBlastOut struct {
	Body struct {
		Node         string   `json:"node"`
		Dependents   []string `json:"dependents"`
		Dependencies []string `json:"dependencies"`
	}
}

func (r *Room) blastRadius(_ context.Context, in *integBlastIn) (*integBlastOut, error) {
	node := strings.TrimSpace(in.Node)
	if node == "" {
		return nil, httpx.Invalid("Query parameter node is required")
	}
	out := &integBlastOut{}
	out.Body.Node = node
	out.Body.Dependents, out.Body.Dependencies = BlastRadius(r.st().String("serviceDependencies"), node)
	return out, nil
}

// ---- Home Assistant ----

func (r *Room) hass() (hass.API, error) {
	st := r.st()
	raw, token := st.String("hassUrl"), st.String("hassToken")
	if raw == "" || token == "" {
		return hass.API{}, httpx.Invalid("Home Assistant not configured")
	}
	base, err := provider.BaseURL(raw)
	if err != nil {
		return hass.API{}, httpx.Invalid("hassUrl is not a valid http(s) URL")
	}
	return hass.API{C: r.client, Base: base, Token: token}, nil
}

var hassName = regexp.MustCompile(`^[a-z_]+$`)

type integHassCallIn struct {
	Domain  string `path:"domain"`
	Service string `path:"service"`
	RawBody []byte
}

type integHassCallOut struct {
	Body struct {
		Status     string `json:"status"`
		HTTPStatus int    `json:"http_status"`
	}
}

func (r *Room) hassCall(ctx context.Context, in *integHassCallIn) (*integHassCallOut, error) {
	api, err := r.hass()
	if err != nil {
		return nil, err
	}
	if !hassName.MatchString(in.Domain) || !hassName.MatchString(in.Service) {
		return nil, httpx.Invalid("Invalid domain or service name")
	}
	var body map[string]any
	if err := json.Unmarshal(in.RawBody, &body); err != nil || body == nil {
		return nil, httpx.Invalid("Invalid JSON")
	}
	code, err := api.Call(ctx, in.Domain, in.Service, in.RawBody)
	if err != nil {
		r.log.Warn("hass service call failed", "service", in.Domain+"."+in.Service, "err", err)
		return nil, httpx.BadGateway("HA service call failed")
	}
	r.record(ctx, "hass_service", in.Domain+"."+in.Service)
	out := &integHassCallOut{}
	out.Body.Status, out.Body.HTTPStatus = "ok", code
	return out, nil
}

type integHassEntitiesIn struct {
	Domain string `query:"domain" doc:"only entities of this domain"`
}

type integHassEntitiesOut struct {
	Body struct {
		Entities []hass.Entity `json:"entities"`
		Total    int           `json:"total"`
	}
}

func (r *Room) hassEntities(ctx context.Context, in *integHassEntitiesIn) (*integHassEntitiesOut, error) {
	api, err := r.hass()
	if err != nil {
		return nil, err
	}
	ents, total, err := api.Entities(ctx, strings.TrimSpace(in.Domain))
	if err != nil {
		r.log.Warn("hass entities failed", "err", err)
		return nil, httpx.BadGateway("Failed to fetch HA entities")
	}
	out := &integHassEntitiesOut{}
	out.Body.Entities, out.Body.Total = ents, total
	return out, nil
}

type integHassServicesOut struct{ Body []hass.Service }

func (r *Room) hassServices(ctx context.Context, _ *struct{}) (*integHassServicesOut, error) {
	api, err := r.hass()
	if err != nil {
		return nil, err
	}
	svcs, err := api.Services(ctx)
	if err != nil {
		r.log.Warn("hass services failed", "err", err)
		return nil, httpx.BadGateway("Failed to fetch HA services")
	}
	return &integHassServicesOut{Body: svcs}, nil
}

type integEntityIn struct {
	EntityID string `path:"entity_id"`
}

var entityRE = regexp.MustCompile(`^[a-z0-9_]+\.[a-zA-Z0-9_]+$`)

type integToggleOut struct {
	Body struct {
		Success  bool   `json:"success"`
		EntityID string `json:"entity_id"`
	}
}

func (r *Room) hassToggle(ctx context.Context, in *integEntityIn) (*integToggleOut, error) {
	api, err := r.hass()
	if err != nil {
		return nil, err
	}
	domain, _, _ := strings.Cut(in.EntityID, ".")
	if !hass.Toggleable[domain] {
		return nil, httpx.Invalid("Cannot toggle domain: %s", domain)
	}
	if !entityRE.MatchString(in.EntityID) {
		return nil, httpx.Invalid("Invalid entity id: %s", in.EntityID)
	}
	ok, err := api.Toggle(ctx, in.EntityID)
	if err != nil {
		r.log.Warn("hass toggle failed", "entity", in.EntityID, "err", err)
		return nil, httpx.BadGateway("HA toggle failed")
	}
	r.record(ctx, "hass_toggle", "Toggled "+in.EntityID)
	out := &integToggleOut{}
	out.Body.Success, out.Body.EntityID = ok, in.EntityID
	return out, nil
}

type integSuccessOut struct {
	Body struct {
		Success bool `json:"success"`
	}
}

func success(ok bool) *integSuccessOut {
	o := &integSuccessOut{}
	o.Body.Success = ok
	return o
}

func (r *Room) hassScene(ctx context.Context, in *integEntityIn) (*integSuccessOut, error) {
	api, err := r.hass()
	if err != nil {
		return nil, err
	}
	if !entityRE.MatchString(in.EntityID) {
		return nil, httpx.Invalid("Invalid entity id: %s", in.EntityID)
	}
	ok, err := api.Scene(ctx, in.EntityID)
	if err != nil {
		r.log.Warn("hass scene failed", "entity", in.EntityID, "err", err)
		return nil, httpx.BadGateway("Scene activation failed")
	}
	r.record(ctx, "hass_scene", "Activated "+in.EntityID)
	return success(ok), nil
}

// ---- Pi-hole ----

type integRawIn struct{ RawBody []byte }

// object decodes a JSON object body; an empty body is {}.
func object(raw []byte) (map[string]any, error) {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return map[string]any{}, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, httpx.Invalid("Invalid JSON")
	}
	return m, nil
}

func (r *Room) piholeToggle(ctx context.Context, in *integRawIn) (*integSuccessOut, error) {
	st := r.st()
	raw := st.String("piholeUrl")
	if raw == "" {
		return nil, httpx.Invalid("Pi-hole not configured")
	}
	body, err := object(in.RawBody)
	if err != nil {
		return nil, err
	}
	action, _ := body["action"].(string)
	if action == "" {
		action = "disable"
	}
	duration := 0
	switch d := body["duration"].(type) {
	case nil:
	case float64:
		if d != float64(int(d)) || d < 0 || d > 86400*7 {
			return nil, httpx.Invalid("duration must be a whole number of seconds between 0 and 604800")
		}
		duration = int(d)
	default:
		return nil, httpx.Invalid("duration must be a whole number of seconds between 0 and 604800")
	}
	base, err := pihole.ToggleBase(raw)
	if err != nil {
		return nil, httpx.Invalid("piholeUrl is not a valid http(s) URL")
	}
	pw := st.String("piholePassword")
	if pw == "" {
		pw = st.String("piholeToken")
	}
	err = pihole.Toggle(ctx, r.client, base, pw, action == "disable", duration)
	var ae *pihole.AuthError
	switch {
	case errors.As(err, &ae):
		return nil, httpx.BadGateway("%s", ae.Error())
	case err != nil:
		r.log.Warn("pihole toggle failed", "err", err)
		return nil, httpx.BadGateway("Pi-hole toggle failed")
	}
	r.record(ctx, "pihole_toggle", fmt.Sprintf("%s (duration=%ds)", action, duration))
	return success(true), nil
}

// ---- game servers ----

type integGameOut struct{ Body []gameserver.Result }

func (r *Room) gameServers(ctx context.Context, _ *struct{}) (*integGameOut, error) {
	list, _ := r.st()["gameServers"].([]any)
	var servers []gameserver.Server
	for _, item := range list {
		m, _ := item.(map[string]any)
		host, _ := m["host"].(string)
		port := 0
		switch p := m["port"].(type) {
		case float64:
			port = int(p)
		case int:
			port = p
		case string:
			port, _ = strconv.Atoi(strings.TrimSpace(p))
		}
		host = strings.TrimSpace(host)
		if host == "" || port <= 0 || port > 65535 {
			continue
		}
		name, _ := m["name"].(string)
		if strings.TrimSpace(name) == "" {
			name = fmt.Sprintf("%s:%d", host, port)
		}
		proto, _ := m["protocol"].(string)
		servers = append(servers, gameserver.Server{Name: name, Host: host, Port: port, Protocol: proto})
	}
	out := make([]gameserver.Result, len(servers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16) // at most 16 probes at once
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = gameserver.Probe(ctx, s)
		}()
	}
	wg.Wait()
	return &integGameOut{Body: out}, nil
}

// ---- Wake-on-LAN ----

type integWolIn struct {
	Body struct {
		MAC string `json:"mac" required:"false"`
	}
}

func (r *Room) wol(ctx context.Context, in *integWolIn) (*integSuccessOut, error) {
	mac := strings.TrimSpace(in.Body.MAC)
	if mac == "" {
		return nil, httpx.Invalid("MAC address required")
	}
	hw, err := wol.ParseMAC(mac)
	if err != nil {
		return nil, httpx.Invalid("Invalid MAC address %q: expected 12 hex digits such as aa:bb:cc:dd:ee:ff", mac)
	}
	addr, err := wol.Broadcast(r.st().String("wolBroadcast"))
	if err != nil {
		return nil, httpx.Invalid("Setting wolBroadcast: %s", err.Error())
	}
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	err = wol.Send(sctx, hw, addr)
	if err != nil {
		r.log.Warn("wol failed", "mac", mac, "addr", addr, "err", err)
	}
	r.record(ctx, "wol", fmt.Sprintf("WOL %s -> %t", mac, err == nil))
	return success(err == nil), nil
}

// ---- rclone ----

// Remote is one rclone remote.
type Remote struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

type integRemotesOut struct {
	Body struct {
		Available bool     `json:"available"`
		Remotes   []Remote `json:"remotes"`
	}
}

func (r *Room) cloudRemotes(ctx context.Context, _ *struct{}) (*integRemotesOut, error) {
	out := &integRemotesOut{}
	out.Body.Remotes = []Remote{}
	r.remotesMu.Lock()
	defer r.remotesMu.Unlock()
	if r.remotesList != nil && r.now().Sub(r.remotesAt) < 10*time.Second {
		out.Body.Available, out.Body.Remotes = true, r.remotesList
		return out, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	names, err := r.rclone.List(cctx)
	if err != nil {
		if !errors.Is(err, rclone.ErrNotInstalled) {
			r.log.Warn("rclone listremotes failed", "err", err)
		}
		return out, nil
	}
	for _, n := range names {
		out.Body.Remotes = append(out.Body.Remotes, Remote{Name: n, Label: "Cloud"})
	}
	out.Body.Available = true
	r.remotesList, r.remotesAt = out.Body.Remotes, r.now()
	return out, nil
}

type integOkOut struct {
	Body struct {
		Status string `json:"status"`
	}
}

func ok() *integOkOut {
	o := &integOkOut{}
	o.Body.Status = "ok"
	return o
}

func (r *Room) forgetRemotes() {
	r.remotesMu.Lock()
	r.remotesList = nil
	r.remotesMu.Unlock()
}

// rcloneErr maps a failed rclone run to its status.
func rcloneErr(err error, failed string) error {
	var ee *rclone.ExitError
	switch {
	case errors.Is(err, rclone.ErrNotInstalled):
		return status(http.StatusFailedDependency, "rclone not found")
	case errors.Is(err, rclone.ErrTimeout):
		return status(http.StatusGatewayTimeout, "Command timed out")
	case errors.As(err, &ee):
		if msg := rclone.FirstError(ee.Stderr); msg != "" && failed == "" {
			return status(http.StatusUnprocessableEntity, rclone.Short(msg, 200))
		}
		if failed == "" {
			failed = "Failed to create remote"
		}
		return status(http.StatusUnprocessableEntity, failed)
	}
	return err
}

func (r *Room) cloudRemoteCreate(ctx context.Context, in *integRawIn) (*integOkOut, error) {
	body, err := object(in.RawBody)
	if err != nil {
		return nil, err
	}
	name, _ := body["name"].(string)
	typ, _ := body["type"].(string)
	name, typ = strings.TrimSpace(name), strings.TrimSpace(typ)
	if name == "" || typ == "" {
		return nil, httpx.Invalid("Name and type are required")
	}
	if !rclone.NameRE.MatchString(name) {
		return nil, httpx.Invalid("Invalid remote name")
	}
	if !rclone.NameRE.MatchString(typ) {
		return nil, httpx.Invalid("Invalid remote type")
	}
	params := map[string]string{}
	if raw, present := body["params"]; present && raw != nil {
		pm, isMap := raw.(map[string]any)
		if !isMap {
			return nil, httpx.Invalid("params must be an object")
		}
		for k, v := range pm {
			var s string
			switch x := v.(type) {
			case string:
				s = x
			case bool:
				s = strconv.FormatBool(x)
			case float64:
				s = strconv.FormatFloat(x, 'f', -1, 64)
			default:
				return nil, httpx.Invalid("Invalid parameter value for %s", k)
			}
			if msg := rclone.ValidParam(k, s); msg != "" {
				return nil, httpx.Invalid("%s", msg)
			}
			params[k] = s
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := r.rclone.Create(cctx, name, typ, params); err != nil {
		return nil, rcloneErr(err, "")
	}
	r.forgetRemotes()
	r.record(ctx, "cloud_remote_create", fmt.Sprintf("Created remote '%s' (%s)", name, typ))
	return ok(), nil
}

type integNameIn struct {
	Name string `path:"name"`
}

func (r *Room) cloudRemoteDelete(ctx context.Context, in *integNameIn) (*integOkOut, error) {
	if !rclone.NameRE.MatchString(in.Name) {
		return nil, httpx.Invalid("Invalid remote name")
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.rclone.Delete(cctx, in.Name); err != nil {
		return nil, rcloneErr(err, "Failed to delete remote")
	}
	r.forgetRemotes()
	r.record(ctx, "cloud_remote_delete", fmt.Sprintf("Deleted remote '%s'", in.Name))
	return ok(), nil
}

type integCloudTestIn struct {
	Body struct {
		Remote string `json:"remote" required:"false"`
	}
}

type integCloudTestOut struct {
	Body struct {
		Success bool   `json:"success"`
		Error   string `json:"error"`
	}
}

func (r *Room) cloudTest(ctx context.Context, in *integCloudTestIn) (*integCloudTestOut, error) {
	remote := strings.TrimSpace(in.Body.Remote)
	if !rclone.TestNameRE.MatchString(remote) {
		return nil, httpx.Invalid("Invalid remote name")
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := r.rclone.Test(cctx, remote)
	var ee *rclone.ExitError
	switch {
	case err == nil:
		r.record(ctx, "cloud_test", fmt.Sprintf("Remote %s -> True", remote))
		return &integCloudTestOut{Body: struct {
			Success bool   `json:"success"`
			Error   string `json:"error"`
		}{Success: true}}, nil
	case errors.Is(err, rclone.ErrNotInstalled):
		return nil, status(http.StatusFailedDependency, "rclone not found on this system")
	case errors.Is(err, rclone.ErrTimeout):
		r.record(ctx, "cloud_test", fmt.Sprintf("Remote %s timeout", remote))
		return nil, status(http.StatusGatewayTimeout, "Connection timed out (15s)")
	case errors.As(err, &ee):
		r.record(ctx, "cloud_test", fmt.Sprintf("Remote %s -> False", remote))
		msg := rclone.FirstError(ee.Stderr)
		if msg == "" {
			msg = "Remote connection failed"
		}
		return nil, status(http.StatusUnprocessableEntity, rclone.Short(msg, 300))
	}
	r.log.Error("cloud test failed", "err", err)
	return nil, status(http.StatusInternalServerError, "Cloud test error")
}

// ---- InfluxDB ----

type integInfluxIn struct {
	Body struct {
		Query string `json:"query" required:"false"`
	}
}

type integInfluxOut struct{ Body []map[string]any }

// maxQuery bounds an InfluxDB query's text.
const maxQuery = 16 << 10

func (r *Room) influxQuery(ctx context.Context, in *integInfluxIn) (*integInfluxOut, error) {
	q := strings.TrimSpace(in.Body.Query)
	if q == "" {
		return nil, httpx.Invalid("Query is required")
	}
	if len(q) > maxQuery {
		return nil, httpx.Invalid("Query is longer than %d bytes", maxQuery)
	}
	st := r.st()
	raw, token := st.String("influxdbUrl"), st.String("influxdbToken")
	if raw == "" || token == "" {
		return nil, httpx.NotFound("InfluxDB not configured")
	}
	base, err := provider.BaseURL(raw)
	if err != nil {
		return nil, httpx.Invalid("influxdbUrl is not a valid http(s) URL")
	}
	r.record(ctx, "influxdb_query", rclone.Short(q, 200))
	qctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	rows, err := influx.Query(qctx, r.client, base, token, st.String("influxdbOrg"), q)
	switch {
	case errors.Is(err, influx.ErrNoFlux):
		return nil, httpx.BadGateway("%s", influx.ErrNoFlux.Error())
	case err != nil && provider.Class(err) == "timeout":
		return nil, status(http.StatusGatewayTimeout, "InfluxDB query timed out")
	case err != nil && provider.Class(err) == "unauthorized":
		return nil, httpx.BadGateway("InfluxDB refused the token")
	case err != nil:
		r.log.Warn("influxdb query failed", "err", err)
		return nil, httpx.BadGateway("InfluxDB query failed")
	}
	return &integInfluxOut{Body: rows}, nil
}
