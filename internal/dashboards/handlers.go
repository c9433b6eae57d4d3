package dashboards

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Routes mounts router 14 (custom dashboards).
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/dashboards", authz.Read, "List user's dashboards"), r.list)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/dashboards", authz.Operator, "Create a custom dashboard"), r.create)
	httpx.Register(rt, httpx.Op(http.MethodPut, "/api/dashboards/{id}", authz.Operator, "Update a custom dashboard"), r.update)
	// The bundled UI of the established server edits with POST (spec 10
	// §13 F13): accepted as an alias of PUT.
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/dashboards/{id}", authz.Operator, "Update a custom dashboard (alias of PUT)"), r.update)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/dashboards/{id}", authz.Operator, "Delete a custom dashboard"), r.delete)
}

type listOut struct{ Body []Dashboard }

func (r *Room) list(ctx context.Context, _ *struct{}) (*listOut, error) {
	ds, err := r.store.list(ctx, authz.Must(ctx).Username)
	if err != nil {
		return nil, err
	}
	return &listOut{Body: ds}, nil
}

type bodyIn struct {
	Body map[string]any
}

type dashboardCreateOut struct {
	Body struct {
		Status string `json:"status"`
		ID     int64  `json:"id"`
	}
}

// configText validates config_json: a string must hold JSON, an object or
// an array is serialised. ok is false when the value is missing or empty.
func configText(v any) (string, bool, error) {
	switch c := v.(type) {
	case nil:
		return "", false, nil
	case string:
		if strings.TrimSpace(c) == "" {
			return "", false, nil
		}
		if !json.Valid([]byte(c)) {
			return "", true, httpx.Invalid("config_json must be valid JSON")
		}
		return c, true, nil
	case map[string]any, []any:
		b, err := json.Marshal(c)
		if err != nil {
			return "", true, httpx.Invalid("config_json must be valid JSON")
		}
		return string(b), true, nil
	default:
		return "", true, httpx.Invalid("config_json must be a JSON object, array or string")
	}
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		return s != "" && s != "0" && s != "false" && s != "no" && s != "off"
	default:
		return false
	}
}

func (r *Room) create(ctx context.Context, in *bodyIn) (*dashboardCreateOut, error) {
	p := authz.Must(ctx)
	name, _ := in.Body["name"].(string)
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, httpx.Invalid("Dashboard name is required")
	}
	if len(name) > 200 {
		return nil, httpx.Invalid("Dashboard name must be at most 200 characters")
	}
	if err := httpx.CheckPrintable("Dashboard name", name); err != nil {
		return nil, err
	}
	cfg, ok, err := configText(in.Body["config_json"])
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, httpx.Invalid("Dashboard config is required")
	}
	now := r.d.Now().Unix()
	id, err := r.store.create(ctx, Dashboard{Name: name, Owner: p.Username, ConfigJSON: cfg, Shared: truthy(in.Body["shared"]),
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return nil, fmt.Errorf("create dashboard: %w", err)
	}
	r.d.Audit.Record(ctx, "dashboard_create", p.Username, fmt.Sprintf("id=%d name=%s", id, name), httpx.ClientIP(ctx))
	out := &dashboardCreateOut{}
	out.Body.Status, out.Body.ID = "ok", id
	return out, nil
}

type idIn struct {
	ID   string `path:"id"`
	Body map[string]any
}

type dashboardOkOut struct {
	Body struct {
		Status string `json:"status"`
	}
}

func ok() *dashboardOkOut {
	o := &dashboardOkOut{}
	o.Body.Status = "ok"
	return o
}

// owned loads the dashboard and checks the caller may change it.
func (r *Room) owned(ctx context.Context, raw, verb string) (Dashboard, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return Dashboard{}, httpx.Invalid("id must be a positive integer")
	}
	d, err := r.store.get(ctx, id)
	if errors.Is(err, errNotFound) {
		return d, httpx.NotFound("Dashboard not found")
	}
	if err != nil {
		return d, err
	}
	p := authz.Must(ctx)
	if d.Owner != p.Username && p.Role != authz.AdminRole {
		return d, httpx.Forbidden("Only the owner or an admin can %s this dashboard", verb)
	}
	return d, nil
}

func (r *Room) update(ctx context.Context, in *idIn) (*dashboardOkOut, error) {
	d, err := r.owned(ctx, in.ID, "update")
	if err != nil {
		return nil, err
	}
	cols := map[string]any{}
	if v, ok := in.Body["name"]; ok {
		if s, _ := v.(string); strings.TrimSpace(s) != "" {
			s = strings.TrimSpace(s)
			if len(s) > 200 {
				return nil, httpx.Invalid("Dashboard name must be at most 200 characters")
			}
			if err := httpx.CheckPrintable("Dashboard name", s); err != nil {
				return nil, err
			}
			cols["name"] = s
		}
	}
	if v, ok := in.Body["config_json"]; ok {
		cfg, set, err := configText(v)
		if err != nil {
			return nil, err
		}
		if set {
			cols["config_json"] = cfg
		}
	}
	if v, ok := in.Body["shared"]; ok {
		cols["shared"] = boolInt(truthy(v))
	}
	changed, err := r.store.update(ctx, d.ID, cols, r.d.Now().Unix())
	if err != nil {
		return nil, err
	}
	if !changed {
		return nil, httpx.NotFound("Dashboard not found or no changes")
	}
	p := authz.Must(ctx)
	r.d.Audit.Record(ctx, "dashboard_update", p.Username, fmt.Sprintf("id=%d", d.ID), httpx.ClientIP(ctx))
	return ok(), nil
}

type delIn struct {
	ID string `path:"id"`
}

func (r *Room) delete(ctx context.Context, in *delIn) (*dashboardOkOut, error) {
	d, err := r.owned(ctx, in.ID, "delete")
	if err != nil {
		return nil, err
	}
	gone, err := r.store.delete(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	if !gone {
		return nil, httpx.NotFound("Dashboard not found")
	}
	p := authz.Must(ctx)
	r.d.Audit.Record(ctx, "dashboard_delete", p.Username, fmt.Sprintf("id=%d", d.ID), httpx.ClientIP(ctx))
	return ok(), nil
}
