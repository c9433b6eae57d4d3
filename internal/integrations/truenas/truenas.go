// Package truenas reads a TrueNAS (SCALE/CORE REST API v2.0, Bearer API
// key) for the stats payload: apps (/api/v2.0/app, falling back to
// /api/v2.0/chart/release on releases before 24.10), alerts
// (/api/v2.0/alert/list) and virtual machines (/api/v2.0/vm).
package truenas

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the TrueNAS integration (payload key "truenas").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "truenas".
func (p *Provider) Key() string { return "truenas" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether truenasUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("truenasUrl") != "" }

// alertLevels are the levels that count (WARNING and above, not dismissed).
var alertLevels = map[string]bool{"WARNING": true, "ERROR": true, "CRITICAL": true, "ALERT": true, "EMERGENCY": true}

// Fetch returns {"apps": n, "alerts": n, "vms": [{"id","name","state"}],
// "appList": [{"name","state"}], "alertList": [{"level","text"}],
// "status": "online"}. A missing truenasKey is a configuration error; a
// failing VM listing (no virtualisation) leaves "vms" empty.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("truenasUrl"))
	if err != nil {
		return nil, err
	}
	key := st.String("truenasKey")
	if key == "" {
		return nil, fmt.Errorf("%w: truenasKey missing", provider.ErrUnauthorized)
	}
	h := http.Header{"Authorization": {"Bearer " + key}}
	get := func(path string, out any) error {
		return p.c.JSON(ctx, provider.Request{URL: base + path, Header: h, MaxBody: 8 << 20}, out)
	}

	var apps []struct {
		Name   string `json:"name"`
		State  string `json:"state"`
		Status string `json:"status"` // chart/release
	}
	if err := get("/api/v2.0/app", &apps); provider.HasStatus(err, http.StatusNotFound) {
		err = get("/api/v2.0/chart/release", &apps)
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	appList := make([]any, 0, len(apps))
	for _, a := range apps {
		state := a.State
		if state == "" {
			state = a.Status
		}
		appList = append(appList, map[string]any{"name": a.Name, "state": state})
	}

	var alerts []struct {
		Level     string `json:"level"`
		Formatted string `json:"formatted"`
		Dismissed bool   `json:"dismissed"`
	}
	if err := get("/api/v2.0/alert/list", &alerts); err != nil {
		return nil, err
	}
	alertList := []any{}
	for _, a := range alerts {
		if a.Dismissed || !alertLevels[strings.ToUpper(a.Level)] {
			continue
		}
		text := strings.TrimSpace(a.Formatted)
		if text == "" {
			text = "Unknown alert"
		}
		alertList = append(alertList, map[string]any{"level": strings.ToUpper(a.Level), "text": text})
	}

	var vms []struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	vmList := []any{}
	if err := get("/api/v2.0/vm", &vms); err == nil {
		for _, v := range vms {
			state := v.Status.State
			if state == "" {
				state = "UNKNOWN"
			}
			vmList = append(vmList, map[string]any{"id": v.ID, "name": v.Name, "state": state})
		}
	} else if provider.Class(err) == "timeout" {
		return nil, err
	}
	return map[string]any{"apps": len(appList), "alerts": len(alertList), "vms": vmList,
		"appList": appList, "alertList": alertList, "status": "online"}, nil
}
