// Package xcpng reads an XCP-ng (XenServer) pool master through XAPI's
// JSON-RPC endpoint POST /jsonrpc: session.login_with_password
// (xcpngUser/xcpngPass), then VM.get_all_records and host.get_all_records,
// then session.logout. The block is {"hosts","vms","running",
// "vmList":[{"name","state"}],"status":"online"} (templates, snapshots and
// control domains left out). XAPI serves plain HTTP on port 80 too; an
// https URL needs a certificate the server trusts, or xcpngVerifySsl=false
// for the self-signed certificate XCP-ng installs.
package xcpng

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the XCP-ng integration (payload key "xcpng").
type Provider struct {
	c  *provider.Client
	id atomic.Int64
}

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "xcpng".
func (p *Provider) Key() string { return "xcpng" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether xcpngUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("xcpngUrl") != "" }

// authErrors are the XAPI error codes of a refused login.
var authErrors = map[string]bool{"SESSION_AUTHENTICATION_FAILED": true, "SESSION_INVALID": true,
	"RBAC_PERMISSION_DENIED": true, "USER_IS_NOT_LOCAL_SUPERUSER": true}

func (p *Provider) call(ctx context.Context, base string, insecure bool, method string, params []any, out any) error {
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	err := p.c.JSON(ctx, provider.Request{Method: http.MethodPost, URL: base + "/jsonrpc", MaxBody: 32 << 20, Insecure: insecure,
		JSON: map[string]any{"jsonrpc": "2.0", "method": method, "params": params, "id": p.id.Add(1)}}, &env)
	if err != nil {
		return err
	}
	if env.Error != nil {
		if authErrors[strings.ToUpper(env.Error.Message)] {
			return fmt.Errorf("%w: xapi %s: %s", provider.ErrUnauthorized, method, env.Error.Message)
		}
		return fmt.Errorf("xapi %s: %s", method, env.Error.Message)
	}
	if out != nil {
		if err := json.Unmarshal(env.Result, out); err != nil {
			return fmt.Errorf("xapi %s: decode: %w", method, err)
		}
	}
	return nil
}

// Fetch logs in and returns the block; missing credentials are a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("xcpngUrl"))
	if err != nil {
		return nil, err
	}
	insecure := !st.Bool("xcpngVerifySsl", true)
	user, pass := st.String("xcpngUser"), st.String("xcpngPass")
	if user == "" || pass == "" {
		return nil, fmt.Errorf("%w: xcpngUser/xcpngPass missing", provider.ErrUnauthorized)
	}
	var session string
	if err := p.call(ctx, base, insecure, "session.login_with_password", []any{user, pass, "1.0", "noba"}, &session); err != nil {
		return nil, err
	}
	defer func() { _ = p.call(context.WithoutCancel(ctx), base, insecure, "session.logout", []any{session}, nil) }()
	var vms map[string]struct {
		Name       string `json:"name_label"`
		Power      string `json:"power_state"`
		Template   bool   `json:"is_a_template"`
		Snapshot   bool   `json:"is_a_snapshot"`
		ControlDom bool   `json:"is_control_domain"`
	}
	if err := p.call(ctx, base, insecure, "VM.get_all_records", []any{session}, &vms); err != nil {
		return nil, err
	}
	var hosts map[string]json.RawMessage
	if err := p.call(ctx, base, insecure, "host.get_all_records", []any{session}, &hosts); err != nil {
		return nil, err
	}
	type vm struct{ name, state string }
	var list []vm
	running := 0
	for _, v := range vms {
		if v.Template || v.Snapshot || v.ControlDom {
			continue
		}
		state := strings.ToLower(v.Power)
		if state == "running" {
			running++
		}
		list = append(list, vm{v.Name, state})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	vmList := make([]any, 0, len(list))
	for _, v := range list {
		vmList = append(vmList, map[string]any{"name": v.name, "state": v.state})
	}
	return map[string]any{"hosts": len(hosts), "vms": len(list), "running": running, "vmList": vmList,
		"status": "online"}, nil
}
