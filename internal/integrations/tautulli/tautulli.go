// Package tautulli reads Tautulli (Plex statistics) for the stats payload
// through its API v2: GET /api/v2?apikey=<key>&cmd=get_activity and
// cmd=get_home_stats&stat_id=top_users. Tautulli answers a bad key with
// HTTP 200 and {"response":{"result":"error"}}, read as a configuration error.
package tautulli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Tautulli integration (payload key "tautulli").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "tautulli".
func (p *Provider) Key() string { return "tautulli" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether tautulliUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("tautulliUrl") != "" }

// call runs one API command and decodes response.data into out.
func (p *Provider) call(ctx context.Context, base, key string, q url.Values, out any) error {
	q.Set("apikey", key)
	var env struct {
		Response struct {
			Result  string          `json:"result"`
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		} `json:"response"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/v2?" + q.Encode()}, &env); err != nil {
		return err
	}
	if env.Response.Result != "success" {
		if strings.Contains(strings.ToLower(env.Response.Message), "apikey") {
			return fmt.Errorf("%w: tautulli refused the API key", provider.ErrUnauthorized)
		}
		return fmt.Errorf("tautulli %s: %s", q.Get("cmd"), env.Response.Result)
	}
	if err := json.Unmarshal(env.Response.Data, out); err != nil {
		return fmt.Errorf("tautulli %s: decode: %w", q.Get("cmd"), err)
	}
	return nil
}

// Fetch returns {"streams","stream_count_direct_play","stream_count_transcode",
// "top_users":[{"user","total_plays"}],"status":"online"}; a missing
// tautulliKey is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("tautulliUrl"))
	if err != nil {
		return nil, err
	}
	key := st.String("tautulliKey")
	if key == "" {
		return nil, fmt.Errorf("%w: tautulliKey missing", provider.ErrUnauthorized)
	}
	var act struct {
		Streams    json.Number `json:"stream_count"`
		DirectPlay json.Number `json:"stream_count_direct_play"`
		Transcode  json.Number `json:"stream_count_transcode"`
	}
	if err := p.call(ctx, base, key, url.Values{"cmd": {"get_activity"}}, &act); err != nil {
		return nil, err
	}
	var stats struct {
		Rows []struct {
			FriendlyName string      `json:"friendly_name"`
			User         string      `json:"user"`
			TotalPlays   json.Number `json:"total_plays"`
		} `json:"rows"`
	}
	top := []any{}
	q := url.Values{"cmd": {"get_home_stats"}, "stat_id": {"top_users"}, "stats_count": {"5"}}
	if err := p.call(ctx, base, key, q, &stats); err == nil {
		for _, r := range stats.Rows {
			name := r.FriendlyName
			if name == "" {
				name = r.User
			}
			top = append(top, map[string]any{"user": name, "total_plays": num(r.TotalPlays)})
		}
	} else if provider.Class(err) == "timeout" {
		return nil, err
	}
	return map[string]any{"streams": num(act.Streams), "stream_count_direct_play": num(act.DirectPlay),
		"stream_count_transcode": num(act.Transcode), "top_users": top, "status": "online"}, nil
}

func num(n json.Number) int64 {
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		f, _ := n.Float64()
		return int64(f)
	}
	return i
}
