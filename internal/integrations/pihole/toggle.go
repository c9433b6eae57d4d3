package pihole

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// ToggleTimeout bounds each call of a toggle (spec 30 §2.6: 5 s).
const ToggleTimeout = 5 * time.Second

// AuthError is a Pi-hole v6 login the Pi-hole refused.
type AuthError struct{ Message string }

func (e *AuthError) Error() string { return "Pi-hole auth failed: " + e.Message }

// ToggleBase normalises piholeUrl for the toggle: http:// added, every
// "/admin" and the trailing "/" removed.
func ToggleBase(raw string) (string, error) {
	return provider.BaseURL(strings.ReplaceAll(strings.TrimSpace(raw), "/admin", ""))
}

// Toggle enables or disables blocking. With a password it logs in to the
// v6 API (POST /api/auth), sets POST /api/dns/blocking with the session and
// logs out again (DELETE /api/auth: v6 has few session seats); a Pi-hole
// without the v6 API (404) and a call without a password use the v5 API
// (/admin/api.php?disable=N|enable&auth=<password or token>). duration is
// seconds (0: until enabled again).
func Toggle(ctx context.Context, c *provider.Client, base, password string, disable bool, duration int) error {
	if password != "" {
		err := toggleV6(ctx, c, base, password, disable, duration)
		if !errors.Is(err, errV5) {
			return err
		}
	}
	return toggleV5(ctx, c, base, password, disable, duration)
}

func toggleV6(ctx context.Context, c *provider.Client, base, password string, disable bool, duration int) error {
	actx, cancel := context.WithTimeout(ctx, ToggleTimeout)
	defer cancel()
	data, err := c.Do(actx, provider.Request{Method: http.MethodPost, URL: base + "/api/auth",
		JSON: map[string]string{"password": password}})
	if provider.HasStatus(err, http.StatusNotFound, http.StatusMethodNotAllowed) {
		return errV5
	}
	var out struct {
		Session struct {
			Valid   bool   `json:"valid"`
			SID     string `json:"sid"`
			Message string `json:"message"`
		} `json:"session"`
	}
	if provider.HasStatus(err, http.StatusUnauthorized) && len(data) == 0 {
		return &AuthError{Message: "invalid credentials"}
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return fmt.Errorf("pihole auth: decode: %w", err)
	}
	if !out.Session.Valid {
		msg := out.Session.Message
		if msg == "" {
			msg = "invalid credentials"
		}
		return &AuthError{Message: msg}
	}
	h := http.Header{}
	if out.Session.SID != "" {
		h.Set("sid", out.Session.SID)
		defer func() { // release the session seat, also when the toggle failed
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ToggleTimeout)
			defer cancel()
			_, _ = c.Do(lctx, provider.Request{Method: http.MethodDelete, URL: base + "/api/auth", Header: h})
		}()
	}
	body := map[string]any{"blocking": true}
	if disable {
		var timer any
		if duration > 0 {
			timer = duration
		}
		body = map[string]any{"blocking": false, "timer": timer}
	}
	bctx, cancel2 := context.WithTimeout(ctx, ToggleTimeout)
	defer cancel2()
	_, err = c.Do(bctx, provider.Request{Method: http.MethodPost, URL: base + "/api/dns/blocking", Header: h, JSON: body})
	return err
}

func toggleV5(ctx context.Context, c *provider.Client, base, token string, disable bool, duration int) error {
	ctx, cancel := context.WithTimeout(ctx, ToggleTimeout)
	defer cancel()
	q := "enable"
	if disable {
		d := duration
		if d <= 0 {
			d = 300
		}
		q = "disable=" + strconv.Itoa(d)
	}
	if token != "" {
		q += "&auth=" + url.QueryEscape(token)
	}
	data, err := c.Do(ctx, provider.Request{URL: base + "/admin/api.php?" + q})
	if err != nil {
		return err
	}
	if t := strings.TrimSpace(string(data)); strings.HasPrefix(t, "[") { // v5 answers [] to a missing or wrong token
		return &AuthError{Message: "invalid credentials"}
	}
	return nil
}
