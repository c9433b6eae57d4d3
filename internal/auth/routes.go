package auth

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Routes mounts the auth room's routes.
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/login", authz.Public, "Authenticate and get session token"), r.login)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/logout", authz.Public, "Revoke current session token"), r.logout)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/me", authz.Read, "Current user info and permissions"), r.me)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/permissions", authz.Read, "List all permissions by role"), r.permissions)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/ws-token", authz.Read, "One-time token for a WebSocket handshake"), r.wsToken)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/auth/totp/setup", authz.Read, "Generate TOTP secret for 2FA"), r.totpSetup)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/auth/totp/enable", authz.Read, "Enable 2FA with TOTP code"), r.totpEnable)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/auth/totp/disable", authz.Admin, "Disable 2FA for a user"), r.totpDisable)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/auth/providers", authz.Public, "List available auth providers"), r.providers)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/profile", authz.Read, "User profile with activity summary"), r.profile)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/profile/password", authz.Read, "Change own password"), r.changeOwnPassword)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/profile/sessions", authz.Read, "List own active sessions"), r.ownSessions)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/user/preferences", authz.Read, "Get dashboard preferences"), r.getPreferences)
	httpx.Register(rt, httpx.Op(http.MethodPut, "/api/user/preferences", authz.Read, "Save dashboard preferences"), r.putPreferences)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/user/preferences", authz.Read, "Reset preferences to defaults"), r.deletePreferences)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/admin/users", authz.Admin, "List all users"), r.listUsers)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/admin/users", authz.Admin, "Add, remove, or change user password"), r.manageUsers)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/admin/sessions", authz.Admin, "List all active sessions"), r.allSessions)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/admin/sessions/revoke", authz.Admin, "Revoke a session by token prefix"), r.revokeSession)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/admin/api-keys", authz.Admin, "List API keys"), r.listKeys)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/admin/api-keys", authz.Admin, "Create an API key"), r.createKey)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/admin/api-keys/{key_id}", authz.Admin, "Delete an API key"), r.deleteKey)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/admin/ssh-keys", authz.Admin, "List authorized SSH keys"), r.listSSHKeys)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/admin/ssh-keys", authz.Admin, "Add an SSH authorized key"), r.addSSHKey)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/admin/ssh-keys/{key_id}", authz.Admin, "Remove an SSH authorized key"), r.removeSSHKey)
	// Single sign-on (sso.go).
	newSSO(r).routes(rt)
}
