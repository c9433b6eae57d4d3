package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/noba-go/noba/internal/authz"
)

// DefaultMaxBody caps JSON request bodies (spec 10 §0.3).
const DefaultMaxBody = 64 << 10

// Router is what rooms mount their routes on: the huma API for typed
// handlers and the mux for plain ones (SSE, WebSocket, raw bodies).
type Router struct {
	API  huma.API
	Mux  *http.ServeMux
	Auth authz.Authenticator
	Log  *slog.Logger
	// Deadlines are widened by Handle for streams, uploads and downloads.
	Deadlines Deadlines
}

// Op builds the huma operation of a route: method, path, the guard beside
// them, and a summary for the OpenAPI document.
func Op(method, path string, access authz.Access, summary string) huma.Operation {
	id := strings.ToLower(method) + strings.NewReplacer("/", "-", "{", "", "}", "", "_", "-").Replace(path)
	op := huma.Operation{
		OperationID:  id,
		Method:       method,
		Path:         path,
		Summary:      summary,
		MaxBodyBytes: DefaultMaxBody,
		Metadata:     map[string]any{"access": access},
		Extensions:   map[string]any{"x-noba-auth": string(access)},
	}
	switch access {
	case authz.Public, authz.Agent:
	default:
		op.Security = []map[string][]string{{"bearer": {}}}
	}
	return op
}

// AccessOf returns the guard of an operation.
func AccessOf(op *huma.Operation) authz.Access {
	if op == nil || op.Metadata == nil {
		return authz.Public
	}
	a, _ := op.Metadata["access"].(authz.Access)
	if a == "" {
		return authz.Public
	}
	return a
}

// Register mounts a typed handler. Errors the handler returns are mapped
// through the vocabulary table; internal ones are logged and answered 500
// without their text.
func Register[I, O any](r *Router, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	log := r.Log
	huma.Register(r.API, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			st, msg := Status(err)
			if st >= 500 {
				log.Error("handler failed", "op", op.OperationID, "err", err)
			}
			return nil, NewBody(st, msg)
		}
		return out, nil
	})
}

// Handle mounts a plain handler behind the route's guard and lists it in
// the OpenAPI document.
func (r *Router) Handle(op huma.Operation, h http.Handler) {
	access := AccessOf(&op)
	o := op
	if o.Responses == nil {
		o.Responses = map[string]*huma.Response{"200": {Description: "OK"}}
	}
	r.API.OpenAPI().AddOperation(&o)
	d := r.Deadlines
	sse := access == authz.SSE
	long := op.MaxBodyBytes > DefaultMaxBody || op.Method == http.MethodGet
	inner := h
	agent := access == authz.Agent
	h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		stream := sse || IsWebSocketHandshake(req) || headerHasToken(req.Header, "Accept", "text/event-stream")
		d.widen(w, req, stream, long)
		if agent {
			// The room checks the agent key itself: an answer it lets
			// through (2xx) means the key held, so the connection no longer
			// counts as unauthenticated (many agents may share one address).
			w = &markOnSuccess{ResponseWriter: w, ctx: req.Context()}
		}
		inner.ServeHTTP(w, req)
	})
	r.Mux.Handle(op.Method+" "+op.Path, Guard(r.Auth, access, h))
}

// HumaDeadlines is the huma middleware giving operations that take large
// bodies (MaxBodyBytes above the default) the upload deadlines.
func HumaDeadlines(d Deadlines) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if op := ctx.Operation(); op != nil && op.MaxBodyBytes > DefaultMaxBody {
			_, w := humago.Unwrap(ctx)
			d.widen(w, nil, false, true)
		}
		next(ctx)
	}
}

// setupPaths are what a session that must first set up 2FA (require2fa)
// may call: enough to see who it is, set up TOTP, and leave.
var setupPaths = map[string]bool{"/api/me": true, "/api/logout": true, "/api/routes": true, "/api/permissions": true,
	"/api/profile": true, "/api/profile/sessions": true, "/api/profile/password": true, "/api/user/preferences": true,
	"/api/auth/totp/setup": true, "/api/auth/totp/enable": true}

// Blocked2FA is the answer to a session that must set up 2FA first.
const Blocked2FA = "Two-factor authentication must be set up first"

// HandleFunc is Handle for a function.
func (r *Router) HandleFunc(op huma.Operation, h http.HandlerFunc) { r.Handle(op, h) }

// Guard wraps a plain handler with the 401/403 check of access.
func Guard(a authz.Authenticator, access authz.Access, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if access == authz.Public || access == authz.Agent {
			h.ServeHTTP(w, req)
			return
		}
		header, query := req.Header.Get("Authorization"), ""
		if !hasScheme(header) && req.URL.RawQuery != "" {
			query = req.URL.Query().Get("token")
		}
		ctx := req.Context()
		if IsWebSocketHandshake(req) {
			ctx = authz.WithWebSocketHandshake(ctx)
		}
		p, st := authz.Check(ctx, a, access, header, query)
		switch st {
		case http.StatusUnauthorized:
			WriteError(w, st, "Unauthorized")
			return
		case http.StatusForbidden:
			WriteError(w, st, forbiddenMsg(p))
			return
		}
		MarkAuthenticated(req.Context())
		if p.Needs2FASetup && !setupPaths[req.URL.Path] {
			WriteError(w, http.StatusForbidden, Blocked2FA)
			return
		}
		if p.Username != "" {
			req = req.WithContext(authz.WithPrincipal(req.Context(), p))
		}
		h.ServeHTTP(w, req)
	})
}

// HumaGuard is the huma middleware enforcing each operation's guard.
func HumaGuard(api huma.API, a authz.Authenticator) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		access := AccessOf(ctx.Operation())
		if access == authz.Public || access == authz.Agent {
			next(ctx)
			return
		}
		header, query := ctx.Header("Authorization"), ""
		if !hasScheme(header) {
			query = ctx.Query("token")
		}
		p, st := authz.Check(ctx.Context(), a, access, header, query)
		switch st {
		case http.StatusUnauthorized:
			_ = huma.WriteErr(api, ctx, st, "Unauthorized")
			return
		case http.StatusForbidden:
			_ = huma.WriteErr(api, ctx, st, forbiddenMsg(p))
			return
		}
		MarkAuthenticated(ctx.Context())
		if p.Needs2FASetup && !setupPaths[ctx.Operation().Path] {
			_ = huma.WriteErr(api, ctx, http.StatusForbidden, Blocked2FA)
			return
		}
		if p.Username != "" {
			ctx = huma.WithContext(ctx, authz.WithPrincipal(ctx.Context(), p))
		}
		next(ctx)
	}
}

// IsWebSocketHandshake reports whether req asks to upgrade to a WebSocket
// (RFC 6455 §4.1: a GET with Upgrade: websocket and Connection: Upgrade).
func IsWebSocketHandshake(req *http.Request) bool {
	return req.Method == http.MethodGet && headerHasToken(req.Header, "Upgrade", "websocket") &&
		headerHasToken(req.Header, "Connection", "upgrade")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func forbiddenMsg(p authz.Principal) string {
	if p.AddressDenied {
		return "Access denied from this address"
	}
	return "Forbidden"
}

// hasScheme reports whether an Authorization header carries a credential
// the guard reads (then the token query parameter is not parsed).
func hasScheme(header string) bool {
	return strings.HasPrefix(header, "Bearer ") || strings.HasPrefix(header, "ApiKey ")
}
