// Package omv reads OpenMediaVault for the stats payload through its JSON
// RPC endpoint POST /rpc.php: Session.login (omvUser/omvPass, session
// cookie), then System.getInformation and
// FileSystemMgmt.enumerateMountedFilesystems. The block is
// {"hostname","version","uptime","cpu_percent","mem_percent",
// "updates","reboot_required","filesystems":[{"device","label","type",
// "percent"}],"status":"online"}.
package omv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the OpenMediaVault integration (payload key "omv").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "omv".
func (p *Provider) Key() string { return "omv" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether omvUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("omvUrl") != "" }

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// call posts one RPC and decodes its "response" into out.
func (p *Provider) call(ctx context.Context, base string, h http.Header, service, method string, params, out any) (http.Header, error) {
	if params == nil {
		params = map[string]any{}
	}
	body, hdr, err := p.c.Exchange(ctx, provider.Request{Method: http.MethodPost, URL: base + "/rpc.php", Header: h,
		JSON: map[string]any{"service": service, "method": method, "params": params}, MaxBody: 8 << 20})
	if err != nil {
		return nil, err
	}
	var env struct {
		Response json.RawMessage `json:"response"`
		Error    *rpcError       `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("omv %s.%s: decode: %w", service, method, err)
	}
	if env.Error != nil {
		// 5000/5001/5002: not authenticated, session expired, bad credentials.
		if env.Error.Code >= 5000 && env.Error.Code <= 5002 || strings.Contains(strings.ToLower(env.Error.Message), "password") {
			return nil, fmt.Errorf("%w: omv %s.%s: %s", provider.ErrUnauthorized, service, method, env.Error.Message)
		}
		return nil, fmt.Errorf("omv %s.%s: error %d", service, method, env.Error.Code)
	}
	if out != nil {
		if err := json.Unmarshal(env.Response, out); err != nil {
			return nil, fmt.Errorf("omv %s.%s: decode response: %w", service, method, err)
		}
	}
	return hdr, nil
}

// Fetch logs in and returns the block; missing credentials are a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("omvUrl"))
	if err != nil {
		return nil, err
	}
	user, pass := st.String("omvUser"), st.String("omvPass")
	if user == "" || pass == "" {
		return nil, fmt.Errorf("%w: omvUser/omvPass missing", provider.ErrUnauthorized)
	}
	var login struct {
		Authenticated bool `json:"authenticated"`
	}
	hdr, err := p.call(ctx, base, nil, "Session", "login", map[string]any{"username": user, "password": pass}, &login)
	if err != nil {
		return nil, err
	}
	if !login.Authenticated {
		return nil, fmt.Errorf("%w: omv login refused", provider.ErrUnauthorized)
	}
	var cookies []string
	for _, c := range (&http.Response{Header: hdr}).Cookies() {
		cookies = append(cookies, (&http.Cookie{Name: c.Name, Value: c.Value}).String())
	}
	if len(cookies) == 0 {
		return nil, errors.New("omv login: no session cookie")
	}
	h := http.Header{"Cookie": {strings.Join(cookies, "; ")}}
	defer func() { _, _ = p.call(context.WithoutCancel(ctx), base, h, "Session", "logout", nil, nil) }()

	var info struct {
		Hostname       string  `json:"hostname"`
		Version        string  `json:"version"`
		Uptime         float64 `json:"uptime"`
		CPUUsage       float64 `json:"cpuUsage"`
		MemTotal       float64 `json:"memTotal"`
		MemUsed        float64 `json:"memUsed"`
		Updates        bool    `json:"pkgUpdatesAvailable"`
		RebootRequired bool    `json:"rebootRequired"`
	}
	if _, err := p.call(ctx, base, h, "System", "getInformation", nil, &info); err != nil {
		return nil, err
	}
	var fss []struct {
		DeviceFile string  `json:"devicefile"`
		Label      string  `json:"label"`
		Type       string  `json:"type"`
		Percentage float64 `json:"percentage"`
	}
	fsList := []any{}
	if _, err := p.call(ctx, base, h, "FileSystemMgmt", "enumerateMountedFilesystems",
		map[string]any{"includeroot": true}, &fss); err == nil {
		for _, f := range fss {
			fsList = append(fsList, map[string]any{"device": f.DeviceFile, "label": f.Label, "type": f.Type,
				"percent": provider.Round1(f.Percentage)})
		}
	} else if provider.Class(err) == "timeout" {
		return nil, err
	}
	mem := 0.0
	if info.MemTotal > 0 {
		mem = provider.Round1(info.MemUsed / info.MemTotal * 100)
	}
	return map[string]any{"hostname": info.Hostname, "version": info.Version, "uptime": int64(info.Uptime),
		"cpu_percent": provider.Round1(info.CPUUsage), "mem_percent": mem, "updates": info.Updates,
		"reboot_required": info.RebootRequired, "filesystems": fsList, "status": "online"}, nil
}
