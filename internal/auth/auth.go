package auth

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fernet/fernet-go"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/cluster"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/httpx"
)

// TokenTTL is a session's lifetime (no sliding renewal).
const TokenTTL = 24 * time.Hour

// Auditor records audit entries; the admin room provides it.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// SettingsReader is the typed settings snapshot every room reads (no copy per read).
type SettingsReader = config.Reader

// Deps are what the auth room is built from.
type Deps struct {
	Store    Store
	Settings SettingsReader
	Audit    Auditor
	Log      *slog.Logger
	PwMinLen int
	// AuthorizedKeys is the authorized_keys file managed by the SSH-key routes.
	AuthorizedKeys string
	Now            func() time.Time
	// Iterations is the PBKDF2 work factor of new hashes (default
	// Iterations; never below 200,000 outside tests).
	Iterations int
	// Cluster carries revocations and login decisions between replicas
	// (nil or without peers: a single server).
	Cluster cluster.Bus
}

type session struct {
	username  string
	role      authz.Role
	prefix    string
	expiresAt time.Time
	version   int64
	has2FA    bool
}

type wsToken struct {
	p       authz.Principal
	expires time.Time
}

// Room is the auth room.
type Room struct {
	d       Deps
	limiter *Limiter

	mu       sync.RWMutex
	sessions map[string]session // by sha256 hex of the token

	keyMu    sync.Mutex
	keyTouch map[string]time.Time

	totpMu   sync.Mutex
	totpUsed map[string]string // username -> last accepted "step:code"

	wsMu     sync.Mutex
	wsTokens map[string]wsToken

	// revMu orders issuing a session (its database check and the entry in
	// memory) against revoking a user's sessions, so that a login in
	// flight cannot add a session after the revocation swept memory.
	revMu sync.Mutex

	// totpKey seals TOTP secrets (the master key); legacyTOTPKey, when
	// an older installation left one, still opens what it sealed.
	totpKey, legacyTOTPKey *fernet.Key

	allowMu sync.Mutex
	pol     *authPolicy
}

// New builds the auth room and loads persisted sessions.
func New(ctx context.Context, d Deps) (*Room, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.PwMinLen <= 0 {
		d.PwMinLen = 8
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Iterations <= 0 {
		d.Iterations = Iterations
	}
	r := &Room{d: d, limiter: NewLimiter(d.Now), sessions: map[string]session{}, keyTouch: map[string]time.Time{},
		totpUsed: map[string]string{}, wsTokens: map[string]wsToken{}}
	ss, err := d.Store.Sessions(ctx, d.Now().Unix())
	if err != nil {
		return nil, err
	}
	for _, s := range ss {
		r.sessions[s.Hash] = session{username: s.Username, role: authz.Role(s.Role), prefix: s.Prefix, expiresAt: time.Unix(s.ExpiresAt, 0), version: s.CredVersion,
			has2FA: s.Has2FA}
	}
	r.joinCluster()
	return r, nil
}

// SealTOTP makes the room keep TOTP secrets sealed with the master key
// (the one that seals the secrets in config.yaml; spec 10 §13 S13) and
// seals again those still stored in plain text (users.conf imports, older
// databases) or with the key of legacyKeyFile (the own .totp.key of
// earlier versions, read when present, never created). Secrets no key
// opens are left as they are and logged. Call it before serving.
func (r *Room) SealTOTP(ctx context.Context, master *fernet.Key, legacyKeyFile string) error {
	if master == nil {
		return errors.New("seal TOTP: no master key")
	}
	legacy, err := loadLegacyTOTPKey(legacyKeyFile)
	if err != nil {
		return err
	}
	r.totpKey, r.legacyTOTPKey = master, legacy
	us, err := r.d.Store.Users(ctx)
	if err != nil {
		return err
	}
	moved := 0
	for _, u := range us {
		done, err := r.resealTOTP(ctx, u.Username, u.TOTPSecret)
		if err != nil {
			return err
		}
		if done {
			moved++
		} else if _, current := r.openTOTP(u.TOTPSecret); u.TOTPSecret != "" && !current {
			r.d.Log.Warn("TOTP secret no key opens; the user cannot pass 2FA until an admin resets it", "user", u.Username)
		}
	}
	if moved > 0 {
		r.d.Log.Info("TOTP secrets sealed with the master key", "count", moved)
	}
	return nil
}

// Limiter exposes the login limiter (for the cleanup job).
func (r *Room) Limiter() *Limiter { return r.limiter }

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Authenticate implements authz.Authenticator: a session token first, then
// an API key (for Bearer); ApiKey values are keys only.
func (r *Room) Authenticate(ctx context.Context, value string, apiKey bool) (authz.Principal, error) {
	if value == "" {
		return authz.Principal{}, authz.ErrNoCredentials
	}
	h := hashToken(value)
	if !apiKey {
		r.mu.RLock()
		s, ok := r.sessions[h]
		r.mu.RUnlock()
		if !ok {
			// Issued by another replica.
			s, ok = r.sessionFromStore(ctx, h)
		}
		if ok {
			if r.d.Now().Before(s.expiresAt) {
				return authz.Principal{Username: s.username, Role: s.role, Kind: "session", Token: value,
					Needs2FASetup: !s.has2FA && r.require2FA()}, nil
			}
			r.mu.Lock()
			delete(r.sessions, h)
			r.mu.Unlock()
		}
	}
	k, err := r.d.Store.APIKeyByHash(ctx, h)
	if err != nil {
		// A one-time WebSocket token (30 s, single use) authenticates a
		// WebSocket handshake and nothing else.
		if !apiKey && authz.IsWebSocketHandshake(ctx) {
			if p, ok := r.ConsumeWSToken(value); ok {
				return p, nil
			}
		}
		return authz.Principal{}, authz.ErrNoCredentials
	}
	now := r.d.Now()
	if k.ExpiresAt != nil && *k.ExpiresAt <= now.Unix() {
		return authz.Principal{}, authz.ErrNoCredentials
	}
	role, ok := authz.ParseRole(k.Role)
	if !ok {
		return authz.Principal{}, authz.ErrNoCredentials
	}
	r.touchKey(k.ID, now)
	return authz.Principal{Username: "apikey:" + k.Name, Role: role, Kind: "apikey"}, nil
}

// touchKey records last_used at most once a minute per key, off the request path.
func (r *Room) touchKey(id string, now time.Time) {
	r.keyMu.Lock()
	last := r.keyTouch[id]
	if now.Sub(last) < time.Minute {
		r.keyMu.Unlock()
		return
	}
	r.keyTouch[id] = now
	r.keyMu.Unlock()
	if err := r.d.Store.TouchAPIKey(context.Background(), id, now.Unix()); err != nil {
		r.d.Log.Warn("api key last_used", "err", err)
	}
}

// issue creates a session token for the user whose credentials (role and
// credential version) were just checked; ErrStale when they changed since.
func (r *Room) issue(ctx context.Context, u User, role authz.Role) (string, error) {
	username, version, has2FA := u.Username, u.CredVersion, u.TOTPSecret != ""
	tok, err := randomToken(32)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	now := r.d.Now()
	s := Session{Hash: hashToken(tok), Prefix: tok[:8], Username: username, Role: string(role), CreatedAt: now.Unix(),
		ExpiresAt: now.Add(TokenTTL).Unix(), CredVersion: version, UserID: u.ID}
	r.revMu.Lock()
	defer r.revMu.Unlock()
	if err := r.d.Store.IssueSession(ctx, s); err != nil {
		return "", err
	}
	r.mu.Lock()
	if len(r.sessions) > 10_000 {
		for h, x := range r.sessions {
			if !now.Before(x.expiresAt) {
				delete(r.sessions, h)
			}
		}
	}
	r.sessions[s.Hash] = session{username: username, role: role, prefix: s.Prefix, expiresAt: time.Unix(s.ExpiresAt, 0), version: version, has2FA: has2FA}
	r.mu.Unlock()
	return tok, nil
}

// Revoke removes a session token.
func (r *Room) Revoke(ctx context.Context, token string) error {
	h := hashToken(token)
	r.mu.Lock()
	delete(r.sessions, h)
	r.mu.Unlock()
	if err := r.d.Store.DeleteSession(ctx, h); err != nil {
		return err
	}
	publishTo(r, chRevoke, revokeMsg{Hashes: []string{h}})
	return nil
}

// revokeUser runs change (a store call that changes the user's
// credentials and deletes their sessions in its transaction), then drops
// the user's sessions and one-time WebSocket tokens from memory, except the
// session keepHash, all while no session can be issued.
func (r *Room) revokeUser(username, keepHash string, change func() error) error {
	r.revMu.Lock()
	defer r.revMu.Unlock()
	if err := change(); err != nil {
		return err
	}
	r.dropUserSessions(username, keepHash)
	publishTo(r, chRevokeUser, revokeUserMsg{Username: username, Keep: keepHash})
	return nil
}

// dropUserSessions removes the user's sessions and one-time WebSocket
// tokens from memory, except keepHash.
func (r *Room) dropUserSessions(username, keepHash string) {
	r.mu.Lock()
	for h, s := range r.sessions {
		if s.username == username && h != keepHash {
			delete(r.sessions, h)
		}
	}
	r.mu.Unlock()
	r.wsMu.Lock()
	for t, w := range r.wsTokens {
		if w.p.Username == username {
			delete(r.wsTokens, t)
		}
	}
	r.wsMu.Unlock()
}

// Purge drops expired sessions from memory and the database, and prunes the limiter.
func (r *Room) Purge(ctx context.Context) error {
	now := r.d.Now()
	r.mu.Lock()
	for h, s := range r.sessions {
		if !now.Before(s.expiresAt) {
			delete(r.sessions, h)
		}
	}
	r.mu.Unlock()
	r.limiter.Prune()
	r.wsMu.Lock()
	for t, w := range r.wsTokens {
		if !now.Before(w.expires) {
			delete(r.wsTokens, t)
		}
	}
	r.wsMu.Unlock()
	_, err := r.d.Store.PurgeSessions(ctx, now.Unix())
	return err
}

// SessionInfo is one row of a session listing.
type SessionInfo struct {
	Prefix    string `json:"prefix"`
	Username  string `json:"username"`
	Role      string `json:"role"`
	Expires   string `json:"expires"`
	ExpiresAt int64  `json:"expires_at"`
	Current   bool   `json:"current,omitempty"`
}

// ListSessions lists live sessions (of one user when username is set).
func (r *Room) ListSessions(username, currentToken string) []SessionInfo {
	now := r.d.Now()
	cur := ""
	if currentToken != "" {
		cur = hashToken(currentToken)
	}
	r.mu.RLock()
	out := []SessionInfo{}
	for h, s := range r.sessions {
		if !now.Before(s.expiresAt) || (username != "" && s.username != username) {
			continue
		}
		p := s.prefix
		if p == "" {
			p = h[:8]
		}
		out = append(out, SessionInfo{Prefix: p + "…", Username: s.username, Role: string(s.role),
			Expires: s.expiresAt.Format("2006-01-02T15:04:05"), ExpiresAt: s.expiresAt.Unix(), Current: h == cur})
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ExpiresAt < out[j].ExpiresAt })
	return out
}

// RevokePrefix revokes the first session whose token (or hash) starts with prefix.
func (r *Room) RevokePrefix(ctx context.Context, prefix string) (bool, error) {
	p := prefix
	if len(p) > 8 {
		p = p[:8]
	}
	r.mu.Lock()
	var found string
	for h, s := range r.sessions {
		if s.prefix == p || strings.HasPrefix(h, p) {
			found = h
			break
		}
	}
	if found != "" {
		delete(r.sessions, found)
	}
	r.mu.Unlock()
	if found == "" {
		return false, nil
	}
	if err := r.d.Store.DeleteSession(ctx, found); err != nil {
		return true, err
	}
	publishTo(r, chRevoke, revokeMsg{Hashes: []string{found}})
	return true, nil
}

// Bootstrap creates the first admin when no user exists: imports a
// users.conf of the established server if one is given and present, else
// creates adminUser with adminPassword, or with a random password logged once.
func (r *Room) Bootstrap(ctx context.Context, adminUser, adminPassword, usersConf string) error {
	users, err := r.d.Store.Users(ctx)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return nil
	}
	now := r.d.Now().Unix()
	if usersConf != "" {
		if imported, err := ParseUsersConf(usersConf); err == nil && len(imported) > 0 {
			for _, u := range imported {
				if err := r.d.Store.AddUser(ctx, u, now); err != nil && !errors.Is(err, ErrExists) {
					return err
				}
			}
			r.d.Log.Info("imported users", "file", usersConf, "count", len(imported))
			return nil
		}
	}
	if adminUser == "" {
		adminUser = "admin"
	}
	if !ValidUsername(adminUser) {
		return fmt.Errorf("NOBA_ADMIN_USER %q: 1-64 characters without whitespace, ':', '/' or '\\'", adminUser)
	}
	pw := adminPassword
	generated := false
	if pw == "" {
		p, err := randomToken(12)
		if err != nil {
			return err
		}
		pw, generated = p, true
	}
	h, err := r.hash(pw)
	if err != nil {
		return err
	}
	if err := r.d.Store.AddUser(ctx, User{Username: adminUser, Hash: h, Role: string(authz.AdminRole)}, now); err != nil {
		return err
	}
	if generated {
		r.d.Log.Warn("created the first admin with a generated password; change it immediately", "username", adminUser, "password", pw)
	} else {
		r.d.Log.Info("created the first admin", "username", adminUser)
	}
	return nil
}

// ParseUsersConf reads the established server's users.conf
// (username:hash:role:totp_secret; the hash may contain ':').
func ParseUsersConf(path string) ([]User, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []User
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var u User
		parts := rsplit(rest, 3)
		if len(parts) == 3 && (parts[1] == "admin" || parts[1] == "operator" || parts[1] == "viewer") {
			u = User{Username: name, Hash: parts[0], Role: parts[1], TOTPSecret: parts[2]}
		} else {
			p2 := rsplit(rest, 2)
			if len(p2) != 2 {
				continue
			}
			u = User{Username: name, Hash: p2[0], Role: p2[1]}
		}
		if _, ok := authz.ParseRole(u.Role); !ok {
			continue
		}
		out = append(out, u)
	}
	return out, sc.Err()
}

// rsplit splits s at its last n-1 colons.
func rsplit(s string, n int) []string {
	var out []string
	for len(out) < n-1 {
		i := strings.LastIndex(s, ":")
		if i < 0 {
			break
		}
		out = append([]string{s[i+1:]}, out...)
		s = s[:i]
	}
	return append([]string{s}, out...)
}

// LoginResult is the answer of a login.
type LoginResult struct {
	Token            string `json:"token,omitempty"`
	Role             string `json:"role,omitempty"`
	Username         string `json:"username,omitempty"`
	Requires2FA      bool   `json:"requires_2fa,omitempty"`
	Requires2FASetup bool   `json:"requires_2fa_setup,omitempty"`
}

func tooMany(left time.Duration) error {
	return httpx.RateLimited("Too many login attempts. Try again in %d seconds.", int(math.Ceil(left.Seconds())))
}

// Login checks credentials (and the TOTP code when the user has 2FA) for
// the client at ip, applying the rate limits: the attempt takes its slot in
// the limiter before the password is hashed.
func (r *Room) Login(ctx context.Context, username, password, code, ip string) (LoginResult, error) {
	if !r.addressAllowed(ip) {
		return LoginResult{}, httpx.Forbidden("Access denied from this address")
	}
	t, left := r.limiter.Reserve(ip, username)
	if left > 0 {
		return LoginResult{}, tooMany(left)
	}
	defer r.limiter.Release(t) // a no-op once Fail or Succeed decided
	fail := func() (LoginResult, error) {
		r.limiterFail(t)
		who := username
		if who == "" {
			who = "unknown"
		}
		r.d.Log.Warn("login failed", "username", who, "ip", ip)
		r.d.Audit.Record(ctx, "login_failed", who, "Failed from "+ip, ip)
		return LoginResult{}, httpx.Unauthorized("Invalid credentials")
	}
	if username == "" || password == "" {
		return fail()
	}
	u, err := r.d.Store.User(ctx, username)
	if errors.Is(err, ErrNotFound) {
		// Spend the same time as a real check so that timing does not tell which names exist.
		VerifyPassword(fmt.Sprintf("pbkdf2:%d:00000000000000000000000000000000:00", r.d.Iterations), password)
		return fail()
	}
	if err != nil {
		return LoginResult{}, err
	}
	ok, upgrade := VerifyPasswordIter(u.Hash, password, r.d.Iterations)
	if !ok {
		return fail()
	}
	if u.TOTPSecret != "" {
		if code == "" {
			return LoginResult{Requires2FA: true, Username: u.Username}, nil
		}
		secret, _ := r.openTOTP(u.TOTPSecret)
		if !r.checkTOTP(u.Username, secret, code) {
			// §13 S7: a wrong code counts against the limiter.
			r.limiterFail(t)
			r.d.Audit.Record(ctx, "login_failed", u.Username, "Invalid 2FA code from "+ip, ip)
			return LoginResult{}, httpx.Unauthorized("Invalid 2FA code")
		}
		// A secret written in plain or with the legacy key after start-up
		// (a restored database) moves to the master key on first use.
		if _, err := r.resealTOTP(ctx, u.Username, u.TOTPSecret); err != nil {
			r.d.Log.Warn("reseal TOTP secret", "user", u.Username, "err", err)
		}
	}
	role, ok := authz.ParseRole(u.Role)
	if !ok {
		return LoginResult{}, fmt.Errorf("user %s has unknown role %q", u.Username, u.Role)
	}
	tok, err := r.issue(ctx, u, role)
	if errors.Is(err, ErrStale) {
		// The user was removed, or their password or role changed, while
		// this login was in flight: the checked credentials are void.
		return fail()
	}
	if err != nil {
		return LoginResult{}, err
	}
	r.limiterSucceed(t)
	if upgrade {
		if h, err := r.hash(password); err == nil {
			if err := r.d.Store.UpgradeHash(ctx, u.Username, u.Hash, h); err != nil {
				r.d.Log.Warn("password hash upgrade failed", "username", u.Username, "err", err)
			}
		}
	}
	res := LoginResult{Token: tok, Role: string(role), Username: u.Username}
	if r.require2FA() && u.TOTPSecret == "" {
		res.Requires2FASetup = true
	}
	r.d.Audit.Record(ctx, "login", u.Username, "success", ip)
	return res, nil
}

// setHas2FA records in the user's live sessions whether they have TOTP.
func (r *Room) setHas2FA(username string, on bool) {
	r.mu.Lock()
	for h, s := range r.sessions {
		if s.username == username {
			s.has2FA = on
			r.sessions[h] = s
		}
	}
	r.mu.Unlock()
}

// AllowAddress implements authz.AddressGate: with the ipWhitelist setting
// (addresses or CIDR ranges, comma-separated) non-empty, users may call only
// from a listed address (spec 10 §13 S8). Agents and public routes are not
// concerned.
func (r *Room) AllowAddress(ctx context.Context) bool {
	return r.addressAllowed(httpx.ClientIP(ctx))
}

func (r *Room) addressAllowed(ip string) bool {
	list := r.policy().allow
	if len(list) == 0 {
		return true
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// require2FA reports the require2fa setting.
func (r *Room) require2FA() bool { return r.policy().require2FA }

// authPolicy is what the guards read from the settings on every request.
type authPolicy struct {
	require2FA bool
	allow      []netip.Prefix
	// stamp identifies the settings file version it was read from.
	stamp string
}

// policy returns the settings the guards read on every request, read again
// only when the settings file changed (a stat instead of decoding every
// setting per request).
func (r *Room) policy() authPolicy {
	stamp := ""
	if p, ok := r.d.Settings.(interface{ Path() string }); ok {
		if fi, err := os.Stat(p.Path()); err == nil {
			stamp = fmt.Sprintf("%d:%d", fi.ModTime().UnixNano(), fi.Size())
		} else {
			stamp = "absent"
		}
	}
	r.allowMu.Lock()
	defer r.allowMu.Unlock()
	if stamp != "" && r.pol != nil && r.pol.stamp == stamp {
		return *r.pol
	}
	st := r.d.Settings.View() // shared: read only
	pol := authPolicy{stamp: stamp}
	pol.require2FA, _ = st["require2fa"].(bool)
	var raw string
	switch v := st["ipWhitelist"].(type) {
	case string:
		raw = v
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				parts = append(parts, s)
			}
		}
		raw = strings.Join(parts, ",")
	}
	if strings.TrimSpace(raw) != "" {
		list, err := httpx.ParsePrefixes(raw)
		if err != nil {
			// A list that does not parse must not open the door: keep what
			// parses (an empty result still refuses everyone).
			r.d.Log.Warn("ipWhitelist has entries that are not addresses or CIDR ranges", "err", err)
			list = nil
			for _, f := range strings.Split(raw, ",") {
				if p, err := httpx.ParsePrefixes(f); err == nil {
					list = append(list, p...)
				}
			}
			if len(list) == 0 {
				list = []netip.Prefix{netip.PrefixFrom(netip.IPv6Unspecified(), 128)}
			}
		}
		pol.allow = list
	}
	r.pol = &pol
	return pol
}

func totpOpts() totp.ValidateOpts {
	return totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
}

// checkTOTP verifies a code (previous, current or next step) and refuses
// a code already used by this user.
func (r *Room) checkTOTP(username, secret, code string) bool {
	code = strings.TrimSpace(code)
	ok, err := totp.ValidateCustom(code, secret, r.d.Now(), totpOpts())
	if err != nil || !ok {
		return false
	}
	key := fmt.Sprintf("%d:%s", r.d.Now().Unix()/30, code)
	r.totpMu.Lock()
	defer r.totpMu.Unlock()
	if last, seen := r.totpUsed[username]; seen {
		// Same code within its validity window: a replay.
		var step int64
		var c string
		if _, err := fmt.Sscanf(last, "%d:%s", &step, &c); err == nil && c == code && r.d.Now().Unix()/30-step <= 2 {
			return false
		}
	}
	r.totpUsed[username] = key
	// Other replicas refuse the same code too (sent off this lock).
	go publishTo(r, chTOTP, totpMsg{Username: username, Key: key})
	return true
}

// IssueWSToken returns a one-time token valid 30 s for WebSocket handshakes.
func (r *Room) IssueWSToken(p authz.Principal) (string, error) {
	t, err := randomToken(32)
	if err != nil {
		return "", err
	}
	now := r.d.Now()
	// Ordered against revocation: a token is never issued for a session
	// that was revoked meanwhile.
	r.revMu.Lock()
	defer r.revMu.Unlock()
	if p.Kind == "session" {
		r.mu.RLock()
		_, live := r.sessions[hashToken(p.Token)]
		r.mu.RUnlock()
		if !live {
			return "", httpx.Unauthorized("Unauthorized")
		}
	}
	r.wsMu.Lock()
	for k, w := range r.wsTokens {
		if !now.Before(w.expires) {
			delete(r.wsTokens, k)
		}
	}
	r.wsTokens[t] = wsToken{p: authz.Principal{Username: p.Username, Role: p.Role, Kind: "ws"}, expires: now.Add(30 * time.Second)}
	r.wsMu.Unlock()
	publishTo(r, chWSToken, wsTokenMsg{Hash: hashToken(t), Username: p.Username, Role: string(p.Role), Expires: now.Add(30 * time.Second).Unix()})
	return t, nil
}

// ConsumeWSToken redeems a one-time WebSocket token.
func (r *Room) ConsumeWSToken(t string) (authz.Principal, bool) {
	r.wsMu.Lock()
	defer r.wsMu.Unlock()
	w, ok := r.wsTokens[t]
	if !ok && r.clustered() {
		// Issued by another replica (kept by its hash).
		t = remoteWSKey(hashToken(t))
		w, ok = r.wsTokens[t]
	}
	if !ok {
		return authz.Principal{}, false
	}
	delete(r.wsTokens, t)
	if r.clustered() {
		h := strings.TrimPrefix(t, "#")
		if h == t {
			h = hashToken(t)
		}
		go publishTo(r, chWSUsed, wsUsedMsg{Hash: h})
	}
	if !r.d.Now().Before(w.expires) {
		return authz.Principal{}, false
	}
	return w.p, true
}

// Permissions lists each role's permission strings (spec 10 §2.10), sorted.
func Permissions() map[string][]string {
	viewer := []string{"alerts:read", "automations:read", "backups:read", "dashboard:read", "dashboard:write", "history:read",
		"integrations:read", "notifications:read", "plugins:read", "stats:read"}
	operator := append(append([]string{}, viewer...), "automations:run", "automations:write", "backups:restore", "compose:control",
		"containers:control", "dns:toggle", "hass:control", "scripts:run", "services:control", "webhooks:trigger", "wol:send")
	admin := append(append([]string{}, operator...), "api_keys:manage", "audit:read", "automations:delete", "backups:manage",
		"cloud:manage", "config:backup", "config:restore", "notifications:manage", "plugins:install", "settings:write",
		"ssh_keys:manage", "system:governor", "terminal:access", "users:manage")
	sort.Strings(viewer)
	sort.Strings(operator)
	sort.Strings(admin)
	return map[string][]string{"viewer": viewer, "operator": operator, "admin": admin}
}

// PermissionsOf returns the sorted permissions of a role (empty for an unknown one).
func PermissionsOf(role authz.Role) []string {
	p := Permissions()[string(role)]
	if p == nil {
		return []string{}
	}
	return p
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// hash makes a new password hash with the room's work factor.
func (r *Room) hash(pw string) (string, error) { return HashPasswordIter(pw, r.d.Iterations) }
