// Package esphome reads the ESPHome dashboard for the stats payload:
// GET /devices (configured nodes, deployed and current versions) and
// GET /ping (the dashboard's own reachability map, configuration file ->
// true/false/null). The block is {"devices":n,"online":n,"outdated":n,
// "deviceList":[{"name","online","version","platform"}],"status":"online"};
// "online" is null for a node the dashboard has not probed yet.
package esphome

import (
	"context"
	"sort"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the ESPHome integration (payload key "esphome").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "esphome".
func (p *Provider) Key() string { return "esphome" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether esphomeUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("esphomeUrl") != "" }

// Fetch returns the block. A failing /ping leaves every "online" null.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("esphomeUrl"))
	if err != nil {
		return nil, err
	}
	var devs struct {
		Configured []struct {
			Name            string `json:"name"`
			FriendlyName    string `json:"friendly_name"`
			Configuration   string `json:"configuration"`
			DeployedVersion string `json:"deployed_version"`
			CurrentVersion  string `json:"current_version"`
			TargetPlatform  string `json:"target_platform"`
		} `json:"configured"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/devices"}, &devs); err != nil {
		return nil, err
	}
	var ping map[string]*bool
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/ping"}, &ping); err != nil && provider.Class(err) != "offline" {
		return nil, err
	}
	sort.SliceStable(devs.Configured, func(i, j int) bool { return devs.Configured[i].Name < devs.Configured[j].Name })
	online, outdated := 0, 0
	list := make([]any, 0, len(devs.Configured))
	for _, d := range devs.Configured {
		var on any
		if v, ok := ping[d.Configuration]; ok && v != nil {
			on = *v
			if *v {
				online++
			}
		}
		if d.DeployedVersion != "" && d.CurrentVersion != "" && d.DeployedVersion != d.CurrentVersion {
			outdated++
		}
		name := d.FriendlyName
		if name == "" {
			name = d.Name
		}
		list = append(list, map[string]any{"name": name, "online": on, "version": d.DeployedVersion,
			"platform": d.TargetPlatform})
	}
	return map[string]any{"devices": len(list), "online": online, "outdated": outdated, "deviceList": list,
		"status": "online"}, nil
}
