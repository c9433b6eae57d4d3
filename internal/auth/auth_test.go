package auth_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// clock is a settable clock for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClockEnv(t *testing.T) (*servertest.Env, *clock) {
	c := &clock{t: time.Now()}
	env := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithClock(c.Now)}})
	return env, c
}

func errMsg(t *testing.T, b []byte) string {
	t.Helper()
	var e struct {
		Error  string `json:"error"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	if e.Error != e.Detail {
		t.Fatalf("error body %q: error and detail differ", b)
	}
	return e.Error
}

func login(env *servertest.Env, user, pw string) (int, []byte) {
	return env.Do(http.MethodPost, "/api/login", "", map[string]string{"username": user, "password": pw})
}

func TestLoginRateLimitAndLockout(t *testing.T) {
	env, c := newClockEnv(t)
	for i := 1; i <= 5; i++ {
		st, b := login(env, "admin", "wrong-Password1")
		if st != http.StatusUnauthorized || errMsg(t, b) != "Invalid credentials" {
			t.Fatalf("attempt %d: got %d %s, want 401 Invalid credentials", i, st, b)
		}
	}
	// Locked now: even the right password is refused, with the seconds left.
	st, b := login(env, servertest.AdminUser, servertest.AdminPassword)
	if st != http.StatusTooManyRequests {
		t.Fatalf("6th attempt: got %d %s, want 429", st, b)
	}
	m := regexp.MustCompile(`^Too many login attempts\. Try again in (\d+) seconds\.$`).FindStringSubmatch(errMsg(t, b))
	if m == nil {
		t.Fatalf("429 message %q", b)
	}
	if n, _ := strconv.Atoi(m[1]); n != 300 {
		t.Fatalf("seconds left = %d, want 300 right after the lockout", n)
	}
	c.Add(100 * time.Second)
	_, b = login(env, servertest.AdminUser, servertest.AdminPassword)
	if got := errMsg(t, b); got != "Too many login attempts. Try again in 200 seconds." {
		t.Fatalf("after 100 s: %q", got)
	}
	c.Add(201 * time.Second)
	if st, b := login(env, servertest.AdminUser, servertest.AdminPassword); st != http.StatusOK {
		t.Fatalf("after the lockout: got %d %s", st, b)
	}
	// The failures are audited with the client address.
	var audit []map[string]any
	env.JSON(http.MethodGet, "/api/audit?action=login_failed", env.Login(servertest.AdminUser, servertest.AdminPassword), nil, &audit)
	if len(audit) != 5 || audit[0]["details"] != "Failed from 127.0.0.1" {
		t.Fatalf("login_failed audit = %v", audit)
	}
}

func TestTokenExpiryAndPurge(t *testing.T) {
	env, c := newClockEnv(t)
	tok := env.Login(servertest.AdminUser, servertest.AdminPassword)
	if st, _ := env.Do(http.MethodGet, "/api/me", tok, nil); st != http.StatusOK {
		t.Fatalf("fresh token: %d", st)
	}
	// ?token= is accepted wherever the header is.
	if st, _ := env.Do(http.MethodGet, "/api/me?token="+tok, "", nil); st != http.StatusOK {
		t.Fatalf("query token: %d", st)
	}
	count := func() int {
		var n int
		if err := env.Server.DB.R.QueryRow(`SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count() != 1 {
		t.Fatalf("tokens rows = %d, want 1", count())
	}
	c.Add(24*time.Hour - time.Second)
	if st, _ := env.Do(http.MethodGet, "/api/me", tok, nil); st != http.StatusOK {
		t.Fatalf("token before 24 h: %d", st)
	}
	c.Add(2 * time.Second)
	if st, _ := env.Do(http.MethodGet, "/api/me", tok, nil); st != http.StatusUnauthorized {
		t.Fatalf("token after 24 h: %d, want 401", st)
	}
	// The purge job removes the expired row.
	var purge func() error
	for _, j := range env.Server.Jobs.Jobs() {
		if j.Name() == "auth-purge" {
			jj := j
			purge = func() error { return runOnce(jj) }
		}
	}
	if purge == nil {
		t.Fatal("no auth-purge job registered")
	}
	if err := purge(); err != nil {
		t.Fatal(err)
	}
	if count() != 0 {
		t.Fatalf("tokens rows after purge = %d, want 0", count())
	}
}

func TestSessionsSurviveRestartAndLogoutRevokes(t *testing.T) {
	env := servertest.New(t)
	tok := env.Login(servertest.AdminUser, servertest.AdminPassword)
	var sessions []map[string]any
	env.JSON(http.MethodGet, "/api/profile/sessions", tok, nil, &sessions)
	if len(sessions) != 1 || sessions[0]["prefix"] != tok[:8]+"…" {
		t.Fatalf("sessions = %v", sessions)
	}
	if st, _ := env.Do(http.MethodPost, "/api/logout", tok, nil); st != http.StatusOK {
		t.Fatalf("logout: %d", st)
	}
	if st, _ := env.Do(http.MethodGet, "/api/me", tok, nil); st != http.StatusUnauthorized {
		t.Fatalf("after logout: %d, want 401", st)
	}
	var audit []map[string]any
	env.JSON(http.MethodGet, "/api/audit?action=logout", env.Login(servertest.AdminUser, servertest.AdminPassword), nil, &audit)
	if len(audit) != 1 || audit[0]["username"] != "admin" {
		t.Fatalf("logout audit = %v", audit)
	}
}

func TestTokenDiesWithUserOrPassword(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	add := func(name string) {
		if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "add", "username": name, "password": "Secret-pass1", "role": "operator"}); st != http.StatusOK {
			t.Fatalf("add %s: %d %s", name, st, b)
		}
	}
	add("alice")
	tok := env.Login("alice", "Secret-pass1")
	if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "remove", "username": "alice"}); st != http.StatusOK {
		t.Fatalf("remove: %d %s", st, b)
	}
	if st, _ := env.Do(http.MethodGet, "/api/me", tok, nil); st != http.StatusUnauthorized {
		t.Fatalf("token of a removed user: %d, want 401", st)
	}

	add("bob")
	tok1 := env.Login("bob", "Secret-pass1")
	if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "change_password", "username": "bob", "password": "Other-pass2"}); st != http.StatusOK {
		t.Fatalf("change_password: %d %s", st, b)
	}
	if st, _ := env.Do(http.MethodGet, "/api/me", tok1, nil); st != http.StatusUnauthorized {
		t.Fatalf("token after admin password change: %d, want 401", st)
	}
	if st, _ := login(env, "bob", "Secret-pass1"); st != http.StatusUnauthorized {
		t.Fatalf("old password still works")
	}

	// Own password change: the current session stays, the others die.
	s1 := env.Login("bob", "Other-pass2")
	s2 := env.Login("bob", "Other-pass2")
	st, b := env.Do(http.MethodPost, "/api/profile/password", s1, map[string]string{"current": "wrong", "new": "Third-pass3"})
	if st != http.StatusUnauthorized || errMsg(t, b) != "Current password is incorrect" {
		t.Fatalf("wrong current: %d %s", st, b)
	}
	st, b = env.Do(http.MethodPost, "/api/profile/password", s1, map[string]string{"current": "Other-pass2", "new": "weak"})
	if st != http.StatusBadRequest || errMsg(t, b) != "Password must be at least 8 characters" {
		t.Fatalf("weak new: %d %s", st, b)
	}
	if st, b := env.Do(http.MethodPost, "/api/profile/password", s1, map[string]string{"current": "Other-pass2", "new": "Third-pass3"}); st != http.StatusOK {
		t.Fatalf("own change: %d %s", st, b)
	}
	if st, _ := env.Do(http.MethodGet, "/api/me", s1, nil); st != http.StatusOK {
		t.Fatalf("current session after own change: %d", st)
	}
	if st, _ := env.Do(http.MethodGet, "/api/me", s2, nil); st != http.StatusUnauthorized {
		t.Fatalf("other session after own change: %d, want 401", st)
	}
}

func TestLastAdminCannotBeRemovedOrDemoted(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "remove", "username": "admin"})
	if st != http.StatusConflict || errMsg(t, b) != "Cannot remove the last admin" {
		t.Fatalf("remove last admin: %d %s", st, b)
	}
	st, b = env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "set_role", "username": "admin", "role": "viewer"})
	if st != http.StatusConflict || errMsg(t, b) != "Cannot demote the last admin" {
		t.Fatalf("demote last admin: %d %s", st, b)
	}
	// With a second admin, the first can go.
	env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "add", "username": "root2", "password": "Secret-pass1", "role": "admin"})
	if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "set_role", "username": "root2", "role": "viewer"}); st != http.StatusOK {
		t.Fatalf("demote second admin: %d %s", st, b)
	}
	env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "set_role", "username": "root2", "role": "admin"})
	r2 := env.Login("root2", "Secret-pass1")
	if st, b := env.Do(http.MethodPost, "/api/admin/users", r2, map[string]string{"action": "remove", "username": "admin"}); st != http.StatusOK {
		t.Fatalf("remove admin with another admin left: %d %s", st, b)
	}
	var users []map[string]any
	env.JSON(http.MethodGet, "/api/admin/users", r2, nil, &users)
	if len(users) != 1 || users[0]["username"] != "root2" {
		t.Fatalf("users = %v", users)
	}
}

func TestAdminUsersValidation(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	cases := []struct {
		body   map[string]string
		status int
		msg    string
	}{
		{map[string]string{"action": "nope"}, 400, "Invalid action"},
		{map[string]string{"action": "add", "username": "x"}, 400, "Missing username or password"},
		{map[string]string{"action": "add", "username": "a:b", "password": "Secret-pass1"}, 400, "Invalid username or role"},
		{map[string]string{"action": "add", "username": "ok", "password": "Secret-pass1", "role": "root"}, 400, "Invalid username or role"},
		{map[string]string{"action": "add", "username": "ok", "password": "short1A"}, 400, "Password must be at least 8 characters"},
		{map[string]string{"action": "add", "username": "ok", "password": "nouppercase1"}, 400, "Password must contain at least one uppercase letter"},
		{map[string]string{"action": "add", "username": "ok", "password": "NoDigitsHere"}, 400, "Password must contain at least one digit or special character"},
		{map[string]string{"action": "add", "username": "admin", "password": "Secret-pass1"}, 409, "User already exists"},
		{map[string]string{"action": "remove", "username": "ghost"}, 404, "User not found"},
		{map[string]string{"action": "change_password", "username": "ghost", "password": "Secret-pass1"}, 404, "User not found"},
	}
	for _, c := range cases {
		st, b := env.Do(http.MethodPost, "/api/admin/users", admin, c.body)
		if st != c.status || errMsg(t, b) != c.msg {
			t.Errorf("%v: got %d %s, want %d %q", c.body, st, b, c.status, c.msg)
		}
	}
	st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "add", "username": "carol", "password": "Secret-pass1"})
	if st != http.StatusOK {
		t.Fatalf("add: %d %s", st, b)
	}
	var users []map[string]any
	env.JSON(http.MethodGet, "/api/admin/users", admin, nil, &users)
	if len(users) != 2 || users[1]["username"] != "carol" || users[1]["role"] != "viewer" {
		t.Fatalf("users = %v", users)
	}
	for _, u := range users {
		if _, leak := u["hash"]; leak {
			t.Fatalf("hash leaked: %v", u)
		}
	}
	var me map[string]any
	env.JSON(http.MethodGet, "/api/me", env.Login("carol", "Secret-pass1"), nil, &me)
	if me["role"] != "viewer" || len(me["permissions"].([]any)) != 10 {
		t.Fatalf("me = %v", me)
	}
}

func TestLoginWithTOTP(t *testing.T) {
	env, c := newClockEnv(t)
	tok := env.Login(servertest.AdminUser, servertest.AdminPassword)
	var setup struct {
		Secret string `json:"secret"`
		URI    string `json:"provisioning_uri"`
	}
	if st := env.JSON(http.MethodPost, "/api/auth/totp/setup", tok, nil, &setup); st != http.StatusOK || len(setup.Secret) != 32 || !strings.HasPrefix(setup.URI, "otpauth://totp/NOBA:admin?") {
		t.Fatalf("setup: %d %+v", st, setup)
	}
	st, b := env.Do(http.MethodPost, "/api/auth/totp/enable", tok, map[string]string{"secret": setup.Secret, "code": "000000"})
	if st != http.StatusBadRequest || errMsg(t, b) != "Invalid TOTP code" {
		t.Fatalf("enable with a wrong code: %d %s", st, b)
	}
	code, _ := totp.GenerateCode(setup.Secret, c.Now())
	if st, b := env.Do(http.MethodPost, "/api/auth/totp/enable", tok, map[string]string{"secret": setup.Secret, "code": code}); st != http.StatusOK {
		t.Fatalf("enable: %d %s", st, b)
	}
	// The password alone now only asks for the code.
	var res map[string]any
	env.JSON(http.MethodPost, "/api/login", "", map[string]string{"username": "admin", "password": servertest.AdminPassword}, &res)
	if res["requires_2fa"] != true || res["token"] != nil {
		t.Fatalf("login without code = %v", res)
	}
	st, b = env.Do(http.MethodPost, "/api/login", "", map[string]string{"username": "admin", "password": servertest.AdminPassword, "totp_code": "123456"})
	if st != http.StatusUnauthorized || errMsg(t, b) != "Invalid 2FA code" {
		t.Fatalf("login with a wrong code: %d %s", st, b)
	}
	c.Add(30 * time.Second)
	code, _ = totp.GenerateCode(setup.Secret, c.Now())
	res = nil
	if st := env.JSON(http.MethodPost, "/api/login", "", map[string]string{"username": "admin", "password": servertest.AdminPassword, "totp_code": code}, &res); st != http.StatusOK || res["token"] == nil {
		t.Fatalf("login with code: %d %v", st, res)
	}
	// The same code cannot be replayed.
	if st, _ := env.Do(http.MethodPost, "/api/login", "", map[string]string{"username": "admin", "password": servertest.AdminPassword, "totp_code": code}); st != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d, want 401", st)
	}
	var prof map[string]any
	env.JSON(http.MethodGet, "/api/profile", tok, nil, &prof)
	if prof["has_2fa"] != true {
		t.Fatalf("profile = %v", prof)
	}
	// An admin can disable it; then the password alone logs in again.
	if st, b := env.Do(http.MethodPost, "/api/auth/totp/disable", tok, map[string]string{"username": "admin"}); st != http.StatusOK {
		t.Fatalf("disable: %d %s", st, b)
	}
	env.Login(servertest.AdminUser, servertest.AdminPassword)
}

func TestAPIKeys(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	st, b := env.Do(http.MethodPost, "/api/admin/api-keys", admin, map[string]any{"name": " "})
	if st != 400 || errMsg(t, b) != "Name is required" {
		t.Fatalf("empty name: %d %s", st, b)
	}
	st, b = env.Do(http.MethodPost, "/api/admin/api-keys", admin, map[string]any{"name": "ci", "role": "boss"})
	if st != 400 || errMsg(t, b) != "Invalid role" {
		t.Fatalf("bad role: %d %s", st, b)
	}
	st, b = env.Do(http.MethodPost, "/api/admin/api-keys", admin, map[string]any{"name": "ci", "expires_days": "soon"})
	if st != 400 {
		t.Fatalf("bad expires_days: %d %s", st, b)
	}
	var created struct {
		ID, Key, Name, Role string
	}
	if st := env.JSON(http.MethodPost, "/api/admin/api-keys", admin, map[string]any{"name": "ci", "role": "operator", "expires_days": 30}, &created); st != 200 || len(created.Key) != 43 || len(created.ID) != 12 {
		t.Fatalf("create: %d %+v", st, created)
	}
	// The key authenticates as Bearer and as ApiKey, with its role.
	var me map[string]any
	env.JSON(http.MethodGet, "/api/me", created.Key, nil, &me)
	if me["username"] != "apikey:ci" || me["role"] != "operator" {
		t.Fatalf("me via key = %v", me)
	}
	resp := env.Request(http.MethodGet, "/api/me", "", nil, map[string]string{"Authorization": "ApiKey " + created.Key})
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("ApiKey header: %d", resp.StatusCode)
	}
	if st, _ := env.Do(http.MethodGet, "/api/admin/users", created.Key, nil); st != http.StatusForbidden {
		t.Fatalf("operator key on an admin route: %d, want 403", st)
	}
	// Its value is never returned again.
	_, list := env.Do(http.MethodGet, "/api/admin/api-keys", admin, nil)
	if strings.Contains(string(list), created.Key) || strings.Contains(string(list), "hash") {
		t.Fatalf("key list leaks the key: %s", list)
	}
	var keys []map[string]any
	_ = json.Unmarshal(list, &keys)
	if len(keys) != 1 || keys[0]["id"] != created.ID || keys[0]["expires_at"] == nil {
		t.Fatalf("keys = %v", keys)
	}
	if st, _ := env.Do(http.MethodDelete, "/api/admin/api-keys/"+created.ID, admin, nil); st != 200 {
		t.Fatalf("delete: %d", st)
	}
	if st, _ := env.Do(http.MethodGet, "/api/me", created.Key, nil); st != http.StatusUnauthorized {
		t.Fatalf("deleted key: %d, want 401", st)
	}
	st, b = env.Do(http.MethodDelete, "/api/admin/api-keys/"+created.ID, admin, nil)
	if st != 404 || errMsg(t, b) != "Key not found" {
		t.Fatalf("delete again: %d %s", st, b)
	}
}

const edKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

func TestSSHKeys(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	bad := []struct{ key, msg string }{
		{"not-a-key", "Invalid SSH public key"},
		{"ssh-ed25519 !!!notbase64", "Invalid SSH public key"},
		{edKey + " a@b\nssh-rsa AAAA injected", "SSH key must be a single line"},
		{`command="rm -rf /" ` + edKey, "Invalid SSH public key"},
	}
	for _, c := range bad {
		st, b := env.Do(http.MethodPost, "/api/admin/ssh-keys", admin, map[string]string{"key": c.key})
		if st != 400 || errMsg(t, b) != c.msg {
			t.Errorf("%q: %d %s, want 400 %q", c.key, st, b, c.msg)
		}
	}
	for i := 0; i < 2; i++ {
		if st, b := env.Do(http.MethodPost, "/api/admin/ssh-keys", admin, map[string]string{"key": edKey + " user" + fmt.Sprint(i) + "@host"}); st != 200 {
			t.Fatalf("add: %d %s", st, b)
		}
	}
	var keys []map[string]any
	env.JSON(http.MethodGet, "/api/admin/ssh-keys", admin, nil, &keys)
	if len(keys) != 2 || keys[1]["comment"] != "user1@host" || keys[1]["id"] != float64(1) || keys[0]["type"] != "ssh-ed25519" {
		t.Fatalf("keys = %v", keys)
	}
	if st, _ := env.Do(http.MethodDelete, "/api/admin/ssh-keys/0", admin, nil); st != 200 {
		t.Fatalf("delete 0: %d", st)
	}
	keys = nil
	env.JSON(http.MethodGet, "/api/admin/ssh-keys", admin, nil, &keys)
	if len(keys) != 1 || keys[0]["comment"] != "user1@host" {
		t.Fatalf("after delete = %v", keys)
	}
	if st, _ := env.Do(http.MethodDelete, "/api/admin/ssh-keys/x", admin, nil); st != 400 {
		t.Fatalf("non-int id: %d", st)
	}
	if st, _ := env.Do(http.MethodDelete, "/api/admin/ssh-keys/7", admin, nil); st != 404 {
		t.Fatalf("missing id: %d", st)
	}
}

func TestPreferences(t *testing.T) {
	env := servertest.New(t)
	tok := env.Token("viewer")
	var got map[string]any
	env.JSON(http.MethodGet, "/api/user/preferences", tok, nil, &got)
	if got["synced"] != false {
		t.Fatalf("fresh = %v", got)
	}
	st, b := env.Do(http.MethodPut, "/api/user/preferences", tok, map[string]any{"preferences": []int{1}})
	if st != 400 || errMsg(t, b) != "Missing or invalid 'preferences' object" {
		t.Fatalf("array: %d %s", st, b)
	}
	if st, _ := env.Do(http.MethodPut, "/api/user/preferences", tok, map[string]any{"preferences": map[string]any{"cardOrder": []string{"cpu", "mem"}}}); st != 200 {
		t.Fatalf("put: %d", st)
	}
	got = nil
	env.JSON(http.MethodGet, "/api/user/preferences", tok, nil, &got)
	if got["synced"] != true || got["preferences"].(map[string]any)["cardOrder"] == nil {
		t.Fatalf("after put = %v", got)
	}
	env.Do(http.MethodDelete, "/api/user/preferences", tok, nil)
	got = nil
	env.JSON(http.MethodGet, "/api/user/preferences", tok, nil, &got)
	if got["synced"] != false {
		t.Fatalf("after delete = %v", got)
	}
}

func TestAdminSessionsRevokeByPrefix(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	vt := env.Token("viewer")
	st, b := env.Do(http.MethodPost, "/api/admin/sessions/revoke", admin, map[string]string{"prefix": "abc"})
	if st != 400 || errMsg(t, b) != "Invalid token prefix" {
		t.Fatalf("short prefix: %d %s", st, b)
	}
	var sessions []map[string]any
	env.JSON(http.MethodGet, "/api/admin/sessions", admin, nil, &sessions)
	if len(sessions) != 2 {
		t.Fatalf("sessions = %v", sessions)
	}
	var res map[string]bool
	env.JSON(http.MethodPost, "/api/admin/sessions/revoke", admin, map[string]string{"prefix": vt[:8] + "…"}, &res)
	if !res["success"] {
		t.Fatalf("revoke: %v", res)
	}
	if st, _ := env.Do(http.MethodGet, "/api/me", vt, nil); st != 401 {
		t.Fatalf("revoked token: %d", st)
	}
}

func TestProvidersIsAnArray(t *testing.T) {
	env := servertest.New(t)
	st, b := env.Do(http.MethodGet, "/api/auth/providers", "", nil)
	if st != 200 || string(b) != "[]\n" && string(b) != "[]" {
		t.Fatalf("providers: %d %q", st, b)
	}
	admin := env.Token("admin")
	env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"oidcProviderUrl": "https://id.example", "oidcClientId": "noba"})
	var ps []map[string]string
	env.JSON(http.MethodGet, "/api/auth/providers", "", nil, &ps)
	if len(ps) != 1 || ps[0]["id"] != "oidc" || ps[0]["name"] != "SSO" {
		t.Fatalf("providers = %v", ps)
	}
}
