// Package authz defines roles, the authenticated principal carried in a
// request's context, and the guards that answer 401 and 403 for a route.
package authz

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Access is the guard a route declares; the values are those of the auth
// column of the API reference's route table.
type Access string

// The guards a route may declare.
const (
	Public   Access = "None"
	Read     Access = "Read"
	SSE      Access = "SSE"
	Operator Access = "Operator"
	Admin    Access = "Admin"
	// Agent routes authenticate with an agent key; the agents room checks it.
	Agent Access = "Agent"
)

// Role is a user's or API key's role.
type Role string

// The roles, from least to most powerful.
const (
	ViewerRole   Role = "viewer"
	OperatorRole Role = "operator"
	AdminRole    Role = "admin"
)

// Roles lists the valid roles in ascending order of power.
var Roles = []Role{ViewerRole, OperatorRole, AdminRole}

// ParseRole reports whether s names a role.
func ParseRole(s string) (Role, bool) {
	switch Role(s) {
	case ViewerRole, OperatorRole, AdminRole:
		return Role(s), true
	}
	return "", false
}

// Rank orders roles: viewer 1, operator 2, admin 3, anything else 0.
func (r Role) Rank() int {
	switch r {
	case ViewerRole:
		return 1
	case OperatorRole:
		return 2
	case AdminRole:
		return 3
	}
	return 0
}

// MinRole is the least role an access level admits; empty for Public and Agent.
func (a Access) MinRole() Role {
	switch a {
	case Read, SSE:
		return ViewerRole
	case Operator:
		return OperatorRole
	case Admin:
		return AdminRole
	}
	return ""
}

// Allows reports whether a principal of role r may call a route guarded by a.
func (a Access) Allows(r Role) bool {
	min := a.MinRole()
	if min == "" {
		return true
	}
	return r.Rank() >= min.Rank()
}

// Principal is the caller of a request.
type Principal struct {
	Username string
	Role     Role
	// Kind is "session" or "apikey".
	Kind string
	// Token is the raw session token the caller presented (empty for API keys).
	Token string
	// Needs2FASetup is set for a session of a user without TOTP while the
	// require2fa setting is on: it may only reach the 2FA setup routes.
	Needs2FASetup bool
	// AddressDenied is set (with a 403) when the caller's address is not
	// in the ipWhitelist setting.
	AddressDenied bool
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal of ctx, if any.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Must returns the principal of ctx or the zero value; guarded handlers always have one.
func Must(ctx context.Context) Principal {
	p, _ := From(ctx)
	return p
}

// ErrNoCredentials is returned by an Authenticator for a missing, unknown or expired credential.
var ErrNoCredentials = errors.New("unauthorized")

// Authenticator resolves a credential to a principal.
type Authenticator interface {
	// Authenticate resolves a bearer value (session token, or API key), an
	// ApiKey value (apiKey true), or a ?token= query value.
	Authenticate(ctx context.Context, value string, apiKey bool) (Principal, error)
}

// AddressGate is implemented by an Authenticator that restricts the
// addresses users may call from (the ipWhitelist setting, spec 10 §13 S8).
type AddressGate interface {
	AllowAddress(ctx context.Context) bool
}

// Credential extracts the credential of a request: the Authorization header
// (Bearer or ApiKey) or else the token query parameter.
func Credential(header, query string) (value string, apiKey bool) {
	switch {
	case strings.HasPrefix(header, "Bearer "):
		return strings.TrimSpace(header[len("Bearer "):]), false
	case strings.HasPrefix(header, "ApiKey "):
		return strings.TrimSpace(header[len("ApiKey "):]), true
	}
	return query, false
}

// Check authenticates a request's credential and checks it against access.
// It returns the principal, or the HTTP status (401 or 403) to answer.
func Check(ctx context.Context, a Authenticator, access Access, header, query string) (Principal, int) {
	if access == Public || access == Agent {
		return Principal{}, 0
	}
	v, apiKey := Credential(header, query)
	if v == "" || a == nil {
		return Principal{}, http.StatusUnauthorized
	}
	if g, ok := a.(AddressGate); ok && !g.AllowAddress(ctx) {
		return Principal{AddressDenied: true}, http.StatusForbidden
	}
	p, err := a.Authenticate(ctx, v, apiKey)
	if err != nil {
		return Principal{}, http.StatusUnauthorized
	}
	if !access.Allows(p.Role) {
		return p, http.StatusForbidden
	}
	return p, 0
}

type wsKey struct{}

// WithWebSocketHandshake marks ctx as the context of a WebSocket handshake:
// only there may a one-time WebSocket token authenticate.
func WithWebSocketHandshake(ctx context.Context) context.Context {
	return context.WithValue(ctx, wsKey{}, true)
}

// IsWebSocketHandshake reports whether ctx was marked by WithWebSocketHandshake.
func IsWebSocketHandshake(ctx context.Context) bool {
	v, _ := ctx.Value(wsKey{}).(bool)
	return v
}
