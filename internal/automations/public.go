package automations

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// maxPublicBody caps the bodies of the public webhook and trigger endpoints.
const maxPublicBody = 1 << 20

// replayWindow is how long a delivery's signature is remembered, and how
// far a signed timestamp may be from the server's clock.
const replayWindow = 5 * time.Minute

// readPublic applies the per-address limit and reads the bounded body.
func (r *Room) readPublic(w http.ResponseWriter, req *http.Request) ([]byte, bool) {
	if !r.limiter.allow(httpx.ClientIP(req.Context()), r.now()) {
		httpx.WriteError(w, http.StatusTooManyRequests, "Too many requests")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxPublicBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			httpx.WriteError(w, http.StatusRequestEntityTooLarge, "Request body too large (max 1 MiB)")
		} else {
			httpx.WriteError(w, http.StatusBadRequest, "Could not read the request body")
		}
		return nil, false
	}
	return body, true
}

func sign(secret string, msg []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(msg)
	return m.Sum(nil)
}

// receive is the public webhook receiver: lookup, enabled, signature
// (X-Hub-Signature-256 over the body, or over "<ts>.<body>" when
// X-Noba-Timestamp is sent, which must then be within 5 minutes), replay
// refusal (a signature seen in the last 5 minutes), then the run.
func (r *Room) receive(w http.ResponseWriter, req *http.Request) {
	body, ok := r.readPublic(w, req)
	if !ok {
		return
	}
	ctx := req.Context()
	hook, err := r.d.Store.WebhookByHookID(ctx, req.PathValue("hook_id"))
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	if !hook.Enabled {
		httpx.WriteError(w, http.StatusForbidden, "Webhook is disabled")
		return
	}
	msg := body
	if ts := req.Header.Get("X-Noba-Timestamp"); ts != "" {
		t, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || absDur(r.now().Sub(time.Unix(t, 0))) > replayWindow {
			httpx.WriteError(w, http.StatusUnauthorized, "Stale or invalid timestamp")
			return
		}
		msg = append([]byte(ts+"."), body...)
	}
	sigHex := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(req.Header.Get("X-Hub-Signature-256")), "sha256="))
	got, err := hex.DecodeString(strings.ToLower(sigHex))
	if err != nil || !hmac.Equal(got, sign(hook.secret, msg)) {
		httpx.WriteError(w, http.StatusUnauthorized, "Invalid signature")
		return
	}
	if r.replayed(hook.HookID + ":" + hex.EncodeToString(got)) {
		httpx.WriteError(w, http.StatusUnauthorized, "Replayed request")
		return
	}
	now := r.now().Unix()
	if err := r.d.Store.TouchWebhook(ctx, hook.ID, now); err != nil {
		httpx.WriteErr(w, err)
		return
	}
	audit := func(details string) {
		if r.d.Audit != nil {
			r.d.Audit.Record(ctx, "webhook_trigger", "webhook", details, "")
		}
	}
	var a Automation
	if hook.AutomationID != nil {
		a, err = r.d.Store.Get(ctx, *hook.AutomationID)
	}
	if hook.AutomationID == nil || err != nil || !a.Enabled {
		audit(fmt.Sprintf("Webhook '%s' received (no automation linked)", hook.Name))
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "ok", "automation": nil})
		return
	}
	s, err := r.start(ctx, a, origin{trigger: "webhook:" + hook.Name, by: "webhook"})
	if err != nil {
		if errors.Is(err, httpx.ErrConflict) {
			httpx.WriteError(w, http.StatusConflict, "Too many concurrent jobs")
			return
		}
		httpx.WriteErr(w, err)
		return
	}
	res := map[string]any{"status": "ok", "automation": a.Name}
	switch {
	case s.Graph:
		res["workflow"], res["graph"], res["run_id"] = true, true, s.RunID
		audit(fmt.Sprintf("Webhook '%s' triggered workflow '%s'", hook.Name, a.Name))
	case s.Workflow:
		res["workflow"] = true
		audit(fmt.Sprintf("Webhook '%s' triggered workflow '%s'", hook.Name, a.Name))
	default:
		res["run_id"] = s.RunID
		audit(fmt.Sprintf("Webhook '%s' triggered '%s' -> run_id=%d", hook.Name, a.Name, *s.RunID))
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// replayed records key and reports whether it was seen within the window.
func (r *Room) replayed(key string) bool {
	now := r.now().Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.replay) > 1000 {
		for k, t := range r.replay {
			if now-t > int64(replayWindow.Seconds()) {
				delete(r.replay, k)
			}
		}
	}
	if t, ok := r.replay[key]; ok && now-t <= int64(replayWindow.Seconds()) {
		return true
	}
	r.replay[key] = now
	return false
}

// triggerHandler is POST /api/automations/{id}/trigger (spec 30 §1.8.6
// with its fixes): the key only in the X-Trigger-Key header (never the
// query string), or operator credentials; the optional hmac_secret
// signature; a bounded body; an audit row.
func (r *Room) triggerHandler(auth authz.Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, ok := r.readPublic(w, req)
		if !ok {
			return
		}
		ctx := req.Context()
		a, err := r.d.Store.Get(ctx, req.PathValue("auto_id"))
		if err != nil {
			httpx.WriteErr(w, err)
			return
		}
		key, want := req.Header.Get("X-Trigger-Key"), str(a.Config, "trigger_key")
		by := ""
		if key != "" && want != "" && hmac.Equal([]byte(key), []byte(want)) {
			by = "api-trigger"
		} else {
			header, query := req.Header.Get("Authorization"), ""
			if header == "" {
				query = req.URL.Query().Get("token")
			}
			p, st := authz.Check(ctx, auth, authz.Operator, header, query)
			switch {
			case st == 0:
				by = p.Username
			case st == http.StatusForbidden:
				httpx.WriteError(w, http.StatusForbidden, "Forbidden")
				return
			case want == "" && key == "":
				httpx.WriteError(w, http.StatusForbidden, "No trigger key configured for this automation")
				return
			default:
				httpx.WriteError(w, http.StatusUnauthorized, "Invalid trigger key or credentials")
				return
			}
		}
		if secret := str(a.Config, "hmac_secret"); secret != "" {
			sig := req.Header.Get("X-Hub-Signature-256")
			if !hmac.Equal([]byte(sig), []byte("sha256="+hex.EncodeToString(sign(secret, body)))) {
				httpx.WriteError(w, http.StatusForbidden, "Invalid HMAC signature")
				return
			}
		}
		s, err := r.start(ctx, a, origin{trigger: "api-trigger:" + a.Name, by: by})
		if err != nil {
			httpx.WriteErr(w, err)
			return
		}
		if r.d.Audit != nil {
			r.d.Audit.Record(ctx, "automation_trigger", by, fmt.Sprintf("Triggered '%s'", a.Name), httpx.ClientIP(ctx))
		}
		res := map[string]any{"success": true}
		switch {
		case s.Graph:
			res["workflow"], res["graph"], res["run_id"] = true, true, s.RunID
		case s.Workflow:
			res["workflow"], res["steps"] = true, s.Steps
		default:
			res["run_id"] = s.RunID
		}
		httpx.WriteJSON(w, http.StatusOK, res)
	})
}
