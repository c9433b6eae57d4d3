// Package weather reads OpenWeatherMap's current weather for the stats
// payload: GET /data/2.5/weather?q=<weatherCity>&appid=<weatherApiKey>
// &units=metric. The block is {"city","country","temp","feels_like",
// "humidity","description","icon","wind_speed","status":"online"}
// (°C, %, m/s), cached for ten minutes (the free plan's update rate).
// A missing city or one OpenWeatherMap does not know (404) is a
// configuration error.
package weather

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// DefaultBaseURL is OpenWeatherMap's API root.
const DefaultBaseURL = "https://api.openweathermap.org"

// Provider is the weather integration (payload key "weather").
type Provider struct {
	c *provider.Client
	// BaseURL is the API root (DefaultBaseURL; tests point it at a fake).
	BaseURL string
	cache   provider.Cache
}

// New builds the provider on c.
func New(c *provider.Client) *Provider {
	return &Provider{c: c, BaseURL: DefaultBaseURL, cache: provider.Cache{TTL: 10 * time.Minute}}
}

// Key is "weather".
func (p *Provider) Key() string { return "weather" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether weatherApiKey is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("weatherApiKey") != "" }

// Fetch returns the block.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(p.BaseURL)
	if err != nil {
		return nil, err
	}
	key, city := st.String("weatherApiKey"), st.String("weatherCity")
	if city == "" {
		return nil, fmt.Errorf("%w: weatherCity missing", provider.ErrUnauthorized)
	}
	ck := provider.CacheKey(base, key, city)
	if v, ok := p.cache.Get(ck); ok {
		return v, nil
	}
	q := url.Values{"q": {city}, "appid": {key}, "units": {"metric"}}
	var w struct {
		Name string `json:"name"`
		Sys  struct {
			Country string `json:"country"`
		} `json:"sys"`
		Main struct {
			Temp      float64 `json:"temp"`
			FeelsLike float64 `json:"feels_like"`
			Humidity  float64 `json:"humidity"`
		} `json:"main"`
		Weather []struct {
			Description string `json:"description"`
			Icon        string `json:"icon"`
		} `json:"weather"`
		Wind struct {
			Speed float64 `json:"speed"`
		} `json:"wind"`
	}
	err = p.c.JSON(ctx, provider.Request{URL: base + "/data/2.5/weather?" + q.Encode(), MaxBody: 64 << 10}, &w)
	if provider.HasStatus(err, http.StatusNotFound) {
		return nil, fmt.Errorf("%w: weatherCity unknown: %v", provider.ErrUnauthorized, err)
	}
	if err != nil {
		return nil, err
	}
	desc, icon := "", ""
	if len(w.Weather) > 0 {
		desc, icon = w.Weather[0].Description, w.Weather[0].Icon
	}
	block := map[string]any{"city": w.Name, "country": w.Sys.Country, "temp": provider.Round1(w.Main.Temp),
		"feels_like": provider.Round1(w.Main.FeelsLike), "humidity": w.Main.Humidity, "description": desc,
		"icon": icon, "wind_speed": provider.Round1(w.Wind.Speed), "status": "online"}
	p.cache.Put(ck, block)
	return block, nil
}
