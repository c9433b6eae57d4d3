package hass

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Timeouts of the router-9 calls (spec 30 §2.5): 4 s for reads, 10 s for service calls.
const (
	ReadTimeout = 4 * time.Second
	CallTimeout = 10 * time.Second
	// MaxEntities bounds the entities a listing returns.
	MaxEntities = 500
)

// API is a Home Assistant REST API client for one base URL and long-lived token.
type API struct {
	C     *provider.Client
	Base  string
	Token string
}

func (a API) header() http.Header { return http.Header{"Authorization": {"Bearer " + a.Token}} }

// Entity is one entity of the listing.
type Entity map[string]any

// Entities lists the states of every entity (filtered to domain when not
// empty): at most MaxEntities entities and the total count of all states.
func (a API) Entities(ctx context.Context, domain string) ([]Entity, int, error) {
	ctx, cancel := context.WithTimeout(ctx, ReadTimeout)
	defer cancel()
	var states []struct {
		EntityID   string         `json:"entity_id"`
		State      *string        `json:"state"`
		Attributes map[string]any `json:"attributes"`
	}
	if err := a.C.JSON(ctx, provider.Request{URL: a.Base + "/api/states", MaxBody: maxStates, Header: a.header()}, &states); err != nil {
		return nil, 0, err
	}
	out := []Entity{}
	for _, s := range states {
		d, _, _ := strings.Cut(s.EntityID, ".")
		if domain != "" && d != domain {
			continue
		}
		if len(out) >= MaxEntities {
			break
		}
		attr := s.Attributes
		if attr == nil {
			attr = map[string]any{}
		}
		state := "unknown"
		if s.State != nil {
			state = *s.State
		}
		name, _ := attr["friendly_name"].(string)
		if name == "" {
			name = s.EntityID
		}
		icon, _ := attr["icon"].(string)
		e := Entity{"entity_id": s.EntityID, "domain": d, "state": state, "name": name, "icon": icon}
		copyAttrs := func(keys ...string) {
			for _, k := range keys {
				e[k] = attr[k]
			}
		}
		switch d {
		case "sensor":
			e["unit"] = attr["unit_of_measurement"]
			copyAttrs("device_class")
		case "light":
			copyAttrs("brightness", "color_temp", "rgb_color")
		case "climate":
			copyAttrs("temperature", "current_temperature", "hvac_action")
		case "media_player":
			copyAttrs("media_title", "source")
		case "binary_sensor", "switch", "input_boolean":
			copyAttrs("device_class")
		case "cover":
			copyAttrs("current_position")
		}
		if b, ok := attr["battery_level"]; ok {
			e["battery"] = b
		}
		out = append(out, e)
	}
	return out, len(states), nil
}

// Service is one service of the flattened listing.
type Service struct {
	Domain      string `json:"domain"`
	Service     string `json:"service"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Services lists every service of every domain, sorted by domain and service.
func (a API) Services(ctx context.Context) ([]Service, error) {
	ctx, cancel := context.WithTimeout(ctx, ReadTimeout)
	defer cancel()
	var domains []struct {
		Domain   string `json:"domain"`
		Services map[string]struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		} `json:"services"`
	}
	if err := a.C.JSON(ctx, provider.Request{URL: a.Base + "/api/services", MaxBody: maxStates, Header: a.header()}, &domains); err != nil {
		return nil, err
	}
	out := []Service{}
	for _, d := range domains {
		for name, s := range d.Services {
			desc := s.Description
			if r := []rune(desc); len(r) > 100 {
				desc = string(r[:100])
			}
			out = append(out, Service{Domain: d.Domain, Service: name, Name: s.Name, Description: desc})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Domain != out[j].Domain {
			return out[i].Domain < out[j].Domain
		}
		return out[i].Service < out[j].Service
	})
	return out, nil
}

// Call posts body (a JSON object) to the service domain.service and returns
// the upstream status code (also for 4xx/5xx answers); err is a transport error.
func (a API) Call(ctx context.Context, domain, service string, body json.RawMessage) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	h := a.header()
	h.Set("Content-Type", "application/json")
	_, err := a.C.Do(ctx, provider.Request{Method: http.MethodPost, MaxBody: maxStates, Header: h, Body: body,
		URL: a.Base + "/api/services/" + url.PathEscape(domain) + "/" + url.PathEscape(service)})
	var se *provider.StatusError
	if errors.As(err, &se) {
		return se.Code, nil
	}
	if err != nil {
		return 0, err
	}
	return http.StatusOK, nil
}

// Toggleable are the domains /api/hass/toggle accepts.
var Toggleable = map[string]bool{"light": true, "switch": true, "input_boolean": true, "fan": true, "cover": true,
	"scene": true, "automation": true, "script": true}

// Toggle calls <domain>.toggle (scene.turn_on for a scene) on entity and
// reports whether Home Assistant answered 200.
func (a API) Toggle(ctx context.Context, entity string) (bool, error) {
	domain, _, _ := strings.Cut(entity, ".")
	service := "toggle"
	if domain == "scene" {
		service = "turn_on"
	}
	body, _ := json.Marshal(map[string]string{"entity_id": entity})
	code, err := a.Call(ctx, domain, service, body)
	return code == http.StatusOK, err
}

// Scene activates a scene (scene.turn_on) and reports whether Home Assistant answered 200.
func (a API) Scene(ctx context.Context, entity string) (bool, error) {
	body, _ := json.Marshal(map[string]string{"entity_id": entity})
	code, err := a.Call(ctx, "scene", "turn_on", body)
	return code == http.StatusOK, err
}
