package auth

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Status is the common {"status": "..."} answer.
type Status struct {
	Status string `json:"status"`
}

type statusOut struct{ Body Status }

func ok() (*statusOut, error) { return &statusOut{Body: Status{Status: "ok"}}, nil }

type loginIn struct {
	Body struct {
		Username string `json:"username"`
		Password string `json:"password"`
		TOTPCode string `json:"totp_code"`
	}
}

type loginOut struct{ Body LoginResult }

func (r *Room) login(ctx context.Context, in *loginIn) (*loginOut, error) {
	res, err := r.Login(ctx, strings.TrimSpace(in.Body.Username), in.Body.Password, in.Body.TOTPCode, httpx.ClientIP(ctx))
	if err != nil {
		return nil, err
	}
	return &loginOut{Body: res}, nil
}

type logoutIn struct {
	Authorization string `header:"Authorization"`
	Token         string `query:"token"`
}

func (r *Room) logout(ctx context.Context, in *logoutIn) (*statusOut, error) {
	v, isKey := authz.Credential(in.Authorization, in.Token)
	if v != "" && !isKey {
		if p, err := r.Authenticate(ctx, v, false); err == nil && p.Kind == "session" {
			r.d.Audit.Record(ctx, "logout", p.Username, "", httpx.ClientIP(ctx))
		}
		if err := r.Revoke(ctx, v); err != nil {
			return nil, err
		}
	}
	return ok()
}

type meOut struct {
	Body struct {
		Username    string   `json:"username"`
		Role        string   `json:"role"`
		Permissions []string `json:"permissions"`
	}
}

func (r *Room) me(ctx context.Context, _ *struct{}) (*meOut, error) {
	p := authz.Must(ctx)
	out := &meOut{}
	out.Body.Username, out.Body.Role, out.Body.Permissions = p.Username, string(p.Role), PermissionsOf(p.Role)
	return out, nil
}

type permsOut struct{ Body map[string][]string }

func (r *Room) permissions(ctx context.Context, _ *struct{}) (*permsOut, error) {
	return &permsOut{Body: Permissions()}, nil
}

type wsTokenOut struct {
	Body struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expires_in"`
	}
}

func (r *Room) wsToken(ctx context.Context, _ *struct{}) (*wsTokenOut, error) {
	t, err := r.IssueWSToken(authz.Must(ctx))
	if err != nil {
		return nil, err
	}
	out := &wsTokenOut{}
	out.Body.Token, out.Body.ExpiresIn = t, 30
	return out, nil
}

type totpSetupOut struct {
	Body struct {
		Secret          string `json:"secret"`
		ProvisioningURI string `json:"provisioning_uri"`
	}
}

func (r *Room) totpSetup(ctx context.Context, _ *struct{}) (*totpSetupOut, error) {
	p := authz.Must(ctx)
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "NOBA", AccountName: p.Username, SecretSize: 20})
	if err != nil {
		return nil, err
	}
	out := &totpSetupOut{}
	out.Body.Secret, out.Body.ProvisioningURI = key.Secret(), key.URL()
	return out, nil
}

type totpEnableIn struct {
	Body struct {
		Secret string `json:"secret"`
		Code   string `json:"code"`
	}
}

func (r *Room) totpEnable(ctx context.Context, in *totpEnableIn) (*statusOut, error) {
	p := authz.Must(ctx)
	secret := strings.ToUpper(strings.TrimSpace(in.Body.Secret))
	if secret == "" {
		return nil, httpx.Invalid("Invalid TOTP code")
	}
	valid, err := totp.ValidateCustom(strings.TrimSpace(in.Body.Code), secret, r.d.Now(), totpOpts())
	if err != nil || !valid {
		return nil, httpx.Invalid("Invalid TOTP code")
	}
	if p.Kind != "session" {
		return nil, httpx.Invalid("2FA can only be enabled for user accounts")
	}
	sealed, err := r.sealTOTP(secret)
	if err != nil {
		return nil, err
	}
	if err := r.d.Store.SetTOTP(ctx, p.Username, sealed); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, httpx.NotFound("User not found")
		}
		return nil, err
	}
	r.setHas2FA(p.Username, true)
	r.d.Audit.Record(ctx, "totp_enable", p.Username, "Enabled 2FA", httpx.ClientIP(ctx))
	return ok()
}

type totpDisableIn struct {
	Body struct {
		Username string `json:"username"`
	}
}

func (r *Room) totpDisable(ctx context.Context, in *totpDisableIn) (*statusOut, error) {
	p := authz.Must(ctx)
	target := strings.TrimSpace(in.Body.Username)
	if target == "" {
		target = p.Username
	}
	if err := r.d.Store.SetTOTP(ctx, target, ""); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	} else if errors.Is(err, ErrNotFound) {
		return nil, httpx.NotFound("User not found")
	}
	r.setHas2FA(target, false)
	r.d.Audit.Record(ctx, "totp_disable", p.Username, "Disabled 2FA for "+target, httpx.ClientIP(ctx))
	return ok()
}

// Provider is a login button.
type Provider struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

type providersOut struct{ Body []Provider }

func (r *Room) providers(ctx context.Context, _ *struct{}) (*providersOut, error) {
	st := r.d.Settings.View() // shared: read only
	out := []Provider{}
	if sp, ok := st["socialProviders"].(map[string]any); ok {
		for _, k := range []struct{ id, name string }{{"google", "Google"}, {"facebook", "Facebook"}, {"github", "GitHub"}, {"microsoft", "Microsoft"}} {
			if c, ok := sp[k.id].(map[string]any); ok {
				if id, _ := c["clientId"].(string); id != "" {
					out = append(out, Provider{ID: k.id, Name: k.name, URL: "/api/auth/social/" + k.id + "/login"})
				}
			}
		}
	}
	u, _ := st["oidcProviderUrl"].(string)
	c, _ := st["oidcClientId"].(string)
	if u != "" && c != "" {
		name, _ := st["oidcProviderName"].(string)
		if name == "" {
			name = "SSO"
		}
		out = append(out, Provider{ID: "oidc", Name: name, URL: "/api/auth/oidc/login"})
	}
	return &providersOut{Body: out}, nil
}

type profileOut struct {
	Body struct {
		Username      string     `json:"username"`
		Role          string     `json:"role"`
		Permissions   []string   `json:"permissions"`
		Has2FA        bool       `json:"has_2fa"`
		RecentLogins  []AuditRow `json:"recent_logins"`
		FailedLogins  []AuditRow `json:"failed_logins"`
		RecentActions []AuditRow `json:"recent_actions"`
	}
}

func (r *Room) profile(ctx context.Context, _ *struct{}) (*profileOut, error) {
	p := authz.Must(ctx)
	out := &profileOut{}
	b := &out.Body
	b.Username, b.Role, b.Permissions = p.Username, string(p.Role), PermissionsOf(p.Role)
	if u, err := r.d.Store.User(ctx, p.Username); err == nil {
		b.Has2FA = u.TOTPSecret != ""
	}
	var err error
	if b.RecentLogins, err = r.d.Store.Audit(ctx, p.Username, "login", 10); err != nil {
		return nil, err
	}
	if b.FailedLogins, err = r.d.Store.Audit(ctx, p.Username, "login_failed", 5); err != nil {
		return nil, err
	}
	if b.RecentActions, err = r.d.Store.Audit(ctx, p.Username, "", 20); err != nil {
		return nil, err
	}
	return out, nil
}

type ownPasswordIn struct {
	Body struct {
		Current string `json:"current"`
		New     string `json:"new"`
	}
}

func (r *Room) changeOwnPassword(ctx context.Context, in *ownPasswordIn) (*statusOut, error) {
	p := authz.Must(ctx)
	u, err := r.d.Store.User(ctx, p.Username)
	if err != nil || p.Kind != "session" {
		return nil, httpx.Unauthorized("Current password is incorrect")
	}
	if okPw, _ := VerifyPassword(u.Hash, in.Body.Current); !okPw {
		return nil, httpx.Unauthorized("Current password is incorrect")
	}
	if err := CheckPasswordStrength(in.Body.New, r.d.PwMinLen); err != nil {
		return nil, err
	}
	h, err := r.hash(in.Body.New)
	if err != nil {
		return nil, err
	}
	keep := hashToken(p.Token)
	// §13 S5: every other session of the user dies with the old password.
	if err := r.revokeUser(p.Username, keep, func() error { return r.d.Store.SetPassword(ctx, p.Username, h, keep) }); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, errors.New("failed to update password: user vanished")
		}
		return nil, err
	}
	r.d.Audit.Record(ctx, "password_change_self", p.Username, "Changed own password", httpx.ClientIP(ctx))
	return ok()
}

type sessionsOut struct{ Body []SessionInfo }

func (r *Room) ownSessions(ctx context.Context, _ *struct{}) (*sessionsOut, error) {
	p := authz.Must(ctx)
	return &sessionsOut{Body: r.ListSessions(p.Username, p.Token)}, nil
}

func (r *Room) allSessions(ctx context.Context, _ *struct{}) (*sessionsOut, error) {
	return &sessionsOut{Body: r.ListSessions("", authz.Must(ctx).Token)}, nil
}

type revokeIn struct {
	Body struct {
		Prefix string `json:"prefix"`
	}
}

type successOut struct {
	Body struct {
		Success bool `json:"success"`
	}
}

func (r *Room) revokeSession(ctx context.Context, in *revokeIn) (*successOut, error) {
	prefix := strings.TrimSpace(strings.ReplaceAll(in.Body.Prefix, "…", ""))
	if len(prefix) < 8 {
		return nil, httpx.Invalid("Invalid token prefix")
	}
	found, err := r.RevokePrefix(ctx, prefix)
	if err != nil {
		return nil, err
	}
	if found {
		r.d.Audit.Record(ctx, "session_revoke", authz.Must(ctx).Username, "Revoked session "+prefix[:8]+"…", httpx.ClientIP(ctx))
	}
	out := &successOut{}
	out.Body.Success = found
	return out, nil
}

type prefsOut struct {
	Body struct {
		Preferences json.RawMessage `json:"preferences"`
		UpdatedAt   *int64          `json:"updated_at,omitempty"`
		Synced      bool            `json:"synced"`
	}
}

func (r *Room) getPreferences(ctx context.Context, _ *struct{}) (*prefsOut, error) {
	p := authz.Must(ctx)
	out := &prefsOut{}
	js, at, err := r.d.Store.Preferences(ctx, p.Username)
	if errors.Is(err, ErrNotFound) {
		out.Body.Preferences = json.RawMessage("{}")
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Body.Preferences, out.Body.UpdatedAt, out.Body.Synced = json.RawMessage(js), &at, true
	return out, nil
}

type putPrefsIn struct {
	Body struct {
		Preferences any `json:"preferences"`
	}
}

func (r *Room) putPreferences(ctx context.Context, in *putPrefsIn) (*statusOut, error) {
	m, isObj := in.Body.Preferences.(map[string]any)
	if !isObj {
		return nil, httpx.Invalid("Missing or invalid 'preferences' object")
	}
	js, err := json.Marshal(m)
	if err != nil {
		return nil, httpx.Invalid("Missing or invalid 'preferences' object")
	}
	if len(js) > 65536 {
		return nil, httpx.TooLarge("Preferences too large")
	}
	if err := r.d.Store.SavePreferences(ctx, authz.Must(ctx).Username, string(js), r.d.Now().Unix()); err != nil {
		return nil, err
	}
	return ok()
}

func (r *Room) deletePreferences(ctx context.Context, _ *struct{}) (*statusOut, error) {
	if err := r.d.Store.DeletePreferences(ctx, authz.Must(ctx).Username); err != nil {
		return nil, err
	}
	return ok()
}

// UserInfo is a user as listed (no hash, no TOTP secret).
type UserInfo struct {
	Username string `json:"username"`
	Role     string `json:"role"`
	Has2FA   bool   `json:"has_2fa"`
}

type usersOut struct{ Body []UserInfo }

func (r *Room) userList(ctx context.Context) ([]UserInfo, error) {
	us, err := r.d.Store.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]UserInfo, 0, len(us))
	for _, u := range us {
		out = append(out, UserInfo{Username: u.Username, Role: u.Role, Has2FA: u.TOTPSecret != ""})
	}
	return out, nil
}

func (r *Room) listUsers(ctx context.Context, _ *struct{}) (*usersOut, error) {
	us, err := r.userList(ctx)
	if err != nil {
		return nil, err
	}
	return &usersOut{Body: us}, nil
}

type manageUsersIn struct {
	Body struct {
		Action   string `json:"action"`
		Username string `json:"username"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
}

type manageUsersOut struct{ Body any }

func (r *Room) manageUsers(ctx context.Context, in *manageUsersIn) (*manageUsersOut, error) {
	b := in.Body
	caller := authz.Must(ctx).Username
	ip := httpx.ClientIP(ctx)
	name := strings.TrimSpace(b.Username)
	done := &manageUsersOut{Body: Status{Status: "ok"}}
	switch b.Action {
	case "list":
		us, err := r.userList(ctx)
		if err != nil {
			return nil, err
		}
		return &manageUsersOut{Body: us}, nil
	case "add":
		if name == "" || b.Password == "" {
			return nil, httpx.Invalid("Missing username or password")
		}
		role := b.Role
		if role == "" {
			role = string(authz.ViewerRole)
		}
		if _, okRole := authz.ParseRole(role); !okRole || !ValidUsername(name) {
			return nil, httpx.Invalid("Invalid username or role")
		}
		if err := CheckPasswordStrength(b.Password, r.d.PwMinLen); err != nil {
			return nil, err
		}
		if _, err := r.d.Store.User(ctx, name); err == nil {
			return nil, httpx.Conflict("User already exists")
		}
		h, err := r.hash(b.Password)
		if err != nil {
			return nil, err
		}
		if err := r.d.Store.AddUser(ctx, User{Username: name, Hash: h, Role: role}, r.d.Now().Unix()); err != nil {
			if errors.Is(err, ErrExists) {
				return nil, httpx.Conflict("User already exists")
			}
			return nil, err
		}
		r.d.Audit.Record(ctx, "user_add", caller, "Added "+name+" with role "+role, ip)
		return done, nil
	case "remove":
		if err := r.revokeUser(name, "", func() error { return r.d.Store.RemoveUser(ctx, name) }); err != nil {
			switch {
			case errors.Is(err, ErrNotFound):
				return nil, httpx.NotFound("User not found")
			case errors.Is(err, ErrLastAdmin):
				return nil, httpx.Conflict("Cannot remove the last admin")
			}
			return nil, err
		}
		r.d.Audit.Record(ctx, "user_remove", caller, "Removed "+name, ip)
		return done, nil
	case "change_password":
		if err := CheckPasswordStrength(b.Password, r.d.PwMinLen); err != nil {
			return nil, err
		}
		h, err := r.hash(b.Password)
		if err != nil {
			return nil, err
		}
		if err := r.revokeUser(name, "", func() error { return r.d.Store.SetPassword(ctx, name, h, "") }); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, httpx.NotFound("User not found")
			}
			return nil, err
		}
		r.d.Audit.Record(ctx, "user_password_change", caller, "Changed password for "+name, ip)
		return done, nil
	case "set_role":
		role, okRole := authz.ParseRole(b.Role)
		if !okRole {
			return nil, httpx.Invalid("Invalid username or role")
		}
		if err := r.revokeUser(name, "", func() error { return r.d.Store.SetRole(ctx, name, string(role)) }); err != nil {
			switch {
			case errors.Is(err, ErrNotFound):
				return nil, httpx.NotFound("User not found")
			case errors.Is(err, ErrLastAdmin):
				return nil, httpx.Conflict("Cannot demote the last admin")
			}
			return nil, err
		}
		r.d.Audit.Record(ctx, "user_role_change", caller, "Set role of "+name+" to "+string(role), ip)
		return done, nil
	}
	return nil, httpx.Invalid("Invalid action")
}

type keysOut struct{ Body []APIKey }

func (r *Room) listKeys(ctx context.Context, _ *struct{}) (*keysOut, error) {
	ks, err := r.d.Store.APIKeys(ctx)
	if err != nil {
		return nil, err
	}
	return &keysOut{Body: ks}, nil
}

type createKeyIn struct {
	Body struct {
		Name        string `json:"name"`
		Role        string `json:"role"`
		ExpiresDays any    `json:"expires_days,omitempty"`
	}
}

type createKeyOut struct {
	Body struct {
		ID        string `json:"id"`
		Key       string `json:"key"`
		Name      string `json:"name"`
		Role      string `json:"role"`
		ExpiresAt *int64 `json:"expires_at"`
	}
}

func (r *Room) createKey(ctx context.Context, in *createKeyIn) (*createKeyOut, error) {
	name := strings.TrimSpace(in.Body.Name)
	if name == "" {
		return nil, httpx.Invalid("Name is required")
	}
	if !ValidName(name) {
		return nil, httpx.Invalid("Name must be printable text of at most 100 characters (no control or bidi characters)")
	}
	role := in.Body.Role
	if role == "" {
		role = string(authz.ViewerRole)
	}
	if _, okRole := authz.ParseRole(role); !okRole {
		return nil, httpx.Invalid("Invalid role")
	}
	var days float64
	switch v := in.Body.ExpiresDays.(type) {
	case nil, bool:
	case float64:
		days = v
	case string:
		if strings.TrimSpace(v) != "" {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, httpx.Invalid("expires_days must be a number of days")
			}
			days = f
		}
	default:
		return nil, httpx.Invalid("expires_days must be a number of days")
	}
	if days < 0 || days > 36500 {
		return nil, httpx.Invalid("expires_days must be between 0 and 36500")
	}
	raw, err := randomToken(32)
	if err != nil {
		return nil, err
	}
	idb, err := randomHex(6)
	if err != nil {
		return nil, err
	}
	now := r.d.Now()
	k := APIKey{ID: idb, Name: name, Hash: hashToken(raw), Role: role, CreatedAt: now.Unix()}
	if days > 0 {
		e := now.Add(time.Duration(days * float64(24*time.Hour))).Unix()
		k.ExpiresAt = &e
	}
	if err := r.d.Store.AddAPIKey(ctx, k); err != nil {
		return nil, err
	}
	r.d.Audit.Record(ctx, "api_key_create", authz.Must(ctx).Username, "Created key '"+name+"'", httpx.ClientIP(ctx))
	out := &createKeyOut{}
	out.Body.ID, out.Body.Key, out.Body.Name, out.Body.Role, out.Body.ExpiresAt = k.ID, raw, k.Name, k.Role, k.ExpiresAt
	return out, nil
}

type keyIDIn struct {
	KeyID string `path:"key_id"`
}

func (r *Room) deleteKey(ctx context.Context, in *keyIDIn) (*statusOut, error) {
	if err := r.d.Store.DeleteAPIKey(ctx, in.KeyID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, httpx.NotFound("Key not found")
		}
		return nil, err
	}
	r.d.Audit.Record(ctx, "api_key_delete", authz.Must(ctx).Username, "Deleted key "+in.KeyID, httpx.ClientIP(ctx))
	return ok()
}

type sshKeysOut struct{ Body []SSHKey }

func (r *Room) listSSHKeys(ctx context.Context, _ *struct{}) (*sshKeysOut, error) {
	ks, err := listSSHKeys(r.d.AuthorizedKeys)
	if err != nil {
		return nil, err
	}
	return &sshKeysOut{Body: ks}, nil
}

type addSSHKeyIn struct {
	Body struct {
		Key string `json:"key"`
	}
}

func (r *Room) addSSHKey(ctx context.Context, in *addSSHKeyIn) (*statusOut, error) {
	line, err := validateSSHKey(in.Body.Key)
	if err != nil {
		return nil, err
	}
	if err := addSSHKey(r.d.AuthorizedKeys, line); err != nil {
		return nil, err
	}
	short := line
	if len(short) > 30 {
		short = short[:30]
	}
	r.d.Audit.Record(ctx, "ssh_key_add", authz.Must(ctx).Username, "Added SSH key: "+short+"...", httpx.ClientIP(ctx))
	return ok()
}

type sshKeyIDIn struct {
	KeyID string `path:"key_id"`
}

func (r *Room) removeSSHKey(ctx context.Context, in *sshKeyIDIn) (*statusOut, error) {
	id, err := strconv.Atoi(in.KeyID)
	if err != nil || id < 0 {
		return nil, httpx.Invalid("Invalid key_id")
	}
	if err := removeSSHKey(r.d.AuthorizedKeys, id); err != nil {
		return nil, err
	}
	r.d.Audit.Record(ctx, "ssh_key_remove", authz.Must(ctx).Username, "Removed SSH key index "+in.KeyID, httpx.ClientIP(ctx))
	return ok()
}
