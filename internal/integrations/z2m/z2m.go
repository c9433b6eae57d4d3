// Package z2m reads Zigbee2MQTT for the stats payload through its frontend
// API: the WebSocket at <z2mUrl>/api, on which Zigbee2MQTT publishes the
// retained bridge/state, bridge/info and bridge/devices messages
// ({"topic","payload"}) right after the connection opens. The block is
// {"version","coordinator","permit_join","bridge_state","devices":n,
// "routers":n,"end_devices":n,"status":"online"} (the coordinator is not
// counted as a device). A frontend protected by auth_token needs z2mToken
// (sent as the token query parameter, as the Zigbee2MQTT frontend does);
// without it the upgrade answers 401 (unauthorized).
package z2m

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Zigbee2MQTT integration (payload key "z2m").
type Provider struct{}

// New builds the provider (it speaks WebSocket, not the shared HTTP client).
func New(*provider.Client) *Provider { return &Provider{} }

// Key is "z2m".
func (p *Provider) Key() string { return "z2m" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether z2mUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("z2mUrl") != "" }

// maxMessage bounds one WebSocket message (bridge/devices of large meshes).
const maxMessage = 8 << 20

// Fetch connects, reads until bridge/info and bridge/devices arrived and
// returns the block.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("z2mUrl"))
	if err != nil {
		return nil, err
	}
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/api"
	if token := st.String("z2mToken"); token != "" { // frontend auth_token: Zigbee2MQTT reads it from the query
		wsURL += "?token=" + url.QueryEscape(token)
	}
	conn, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPHeader: http.Header{"User-Agent": {"noba"}},
		HTTPClient: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("z2m %s: %w", provider.Redact(wsURL), &provider.StatusError{Code: resp.StatusCode})
		}
		return nil, fmt.Errorf("z2m %s: %w", provider.Redact(wsURL), err)
	}
	defer func() { _ = conn.CloseNow() }()
	conn.SetReadLimit(maxMessage)

	var info struct {
		Version     string `json:"version"`
		PermitJoin  bool   `json:"permit_join"`
		Coordinator struct {
			Type string `json:"type"`
		} `json:"coordinator"`
	}
	var devices []struct {
		Type string `json:"type"`
	}
	state := ""
	gotInfo, gotDevices := false, false
	for !gotInfo || !gotDevices {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("z2m read: %w", err)
		}
		var msg struct {
			Topic   string          `json:"topic"`
			Payload json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &msg) != nil {
			continue
		}
		switch msg.Topic {
		case "bridge/info":
			if err := json.Unmarshal(msg.Payload, &info); err != nil {
				return nil, fmt.Errorf("z2m bridge/info: %w", err)
			}
			gotInfo = true
		case "bridge/devices":
			if err := json.Unmarshal(msg.Payload, &devices); err != nil {
				return nil, fmt.Errorf("z2m bridge/devices: %w", err)
			}
			gotDevices = true
		case "bridge/state":
			var s struct {
				State string `json:"state"`
			}
			if json.Unmarshal(msg.Payload, &s) == nil && s.State != "" {
				state = s.State
			} else {
				state = strings.Trim(string(msg.Payload), `"`) // z2m 1.x: plain string
			}
		}
	}
	_ = conn.Close(websocket.StatusNormalClosure, "")
	routers, ends, n := 0, 0, 0
	for _, d := range devices {
		switch d.Type {
		case "Coordinator":
			continue
		case "Router":
			routers++
		case "EndDevice":
			ends++
		}
		n++
	}
	if state == "" {
		state = "online"
	}
	return map[string]any{"version": info.Version, "coordinator": info.Coordinator.Type, "permit_join": info.PermitJoin,
		"bridge_state": state, "devices": n, "routers": routers, "end_devices": ends, "status": "online"}, nil
}
