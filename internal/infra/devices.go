package infra

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

type infraDevicesOut struct{ Body []Device }

func (r *Room) listDevices(ctx context.Context, _ *struct{}) (*infraDevicesOut, error) {
	ds, err := r.store.Devices(ctx)
	if err != nil {
		return nil, err
	}
	return &infraDevicesOut{Body: ds}, nil
}

type infraDiscoverIn struct {
	Hostname string `path:"hostname"`
}

type infraDiscoverOut struct {
	Body struct {
		Status    string `json:"status"`
		ID        string `json:"id"`
		WebSocket bool   `json:"websocket"`
	}
}

func (r *Room) discover(ctx context.Context, in *infraDiscoverIn) (*infraDiscoverOut, error) {
	if r.d.Agents == nil || !slices.Contains(r.d.Agents.Online(), in.Hostname) {
		return nil, httpx.NotFound("Agent '%s' not found or offline", in.Hostname)
	}
	id, ws, err := r.d.Agents.Send(ctx, in.Hostname, "network_discover", map[string]any{}, authz.Must(ctx).Username)
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "network_discover", fmt.Sprintf("host=%s id=%s ws=%t", in.Hostname, id, ws))
	out := &infraDiscoverOut{}
	out.Body.Status, out.Body.ID, out.Body.WebSocket = "queued", id, ws
	if ws {
		out.Body.Status = "sent"
	}
	return out, nil
}

type infraDeviceIn struct {
	DeviceID string `path:"device_id"`
}

type infraOkOut struct {
	Body struct {
		Status string `json:"status"`
	}
}

func (r *Room) deleteDevice(ctx context.Context, in *infraDeviceIn) (*infraOkOut, error) {
	id, err := strconv.ParseInt(in.DeviceID, 10, 64)
	if err != nil || id <= 0 {
		return nil, httpx.Invalid("Invalid device_id parameter")
	}
	if err := r.store.Delete(ctx, id); err != nil {
		if errors.Is(err, httpx.ErrNotFound) {
			return nil, httpx.NotFound("Device %d not found", id)
		}
		return nil, err
	}
	r.audit(ctx, "network_device_delete", fmt.Sprintf("device_id=%d", id))
	out := &infraOkOut{}
	out.Body.Status = "ok"
	return out, nil
}

// OnDiscoverResult stores the devices of a network_discover result (the
// agents room calls it for every such result, WebSocket or HTTP).
func (r *Room) OnDiscoverResult(ctx context.Context, host string, res map[string]any) {
	if s, _ := res["status"].(string); s != "ok" {
		return
	}
	list, _ := res["devices"].([]any)
	now := r.d.Now().Unix()
	for i, e := range list {
		if i >= 1024 {
			break
		}
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		ip, _ := m["ip"].(string)
		if net.ParseIP(ip) == nil {
			continue
		}
		mac, _ := m["mac"].(string)
		name, _ := m["hostname"].(string)
		d := Device{IP: ip, MAC: strings.ToLower(strings.TrimSpace(mac)), Hostname: strings.TrimSpace(name), DiscoveredBy: host}
		if ps, ok := m["open_ports"].([]any); ok {
			for _, p := range ps {
				if f, ok := p.(float64); ok && f > 0 && f < 65536 {
					d.OpenPorts = append(d.OpenPorts, int(f))
				}
			}
		}
		if err := r.store.Upsert(ctx, d, now); err != nil {
			r.d.Log.Warn("store device", "err", err)
			return
		}
	}
}
