package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pquerna/otp/totp"

	"github.com/noba-go/noba/internal/auth"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// loginFrom logs in with an X-Forwarded-For header (honoured only when the
// server trusts its loopback proxy).
func loginFrom(env *servertest.Env, xff, user, pw string) (int, []byte) {
	env.T.Helper()
	js, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	h := map[string]string{"Content-Type": "application/json"}
	if xff != "" {
		h["X-Forwarded-For"] = xff
	}
	resp := env.Request(http.MethodPost, "/api/login", "", string(js), h)
	defer resp.Body.Close()
	var b []byte
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b
}

func trustProxyEnv(t *testing.T, c *clock) *servertest.Env {
	opts := []server.Option{}
	if c != nil {
		opts = append(opts, server.WithClock(c.Now))
	}
	return servertest.NewWith(t, servertest.Setup{Options: opts,
		Config: []servertest.Config{func(cfg *config.Config) { cfg.TrustProxy = true }}})
}

// Issue 11 item 1: 100 concurrent wrong logins from one address, the right
// password as number 50. The attempt takes its limiter slot before the
// hash, so at most five get a verdict and the rest are refused with 429.
func TestLoginLimiterHoldsUnderConcurrentAttempts(t *testing.T) {
	env := servertest.New(t)
	const n = 100
	var wg sync.WaitGroup
	start := make(chan struct{})
	codes := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			pw := "wrong-Password1"
			if i == 49 {
				pw = servertest.AdminPassword
			}
			<-start
			codes[i], _ = login(env, servertest.AdminUser, pw)
		}(i)
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	// Five failures are allowed (a success gives its own slot back).
	if count[http.StatusTooManyRequests] < n-6 || count[http.StatusUnauthorized] > 5 || count[http.StatusOK] > 1 ||
		count[http.StatusOK]+count[http.StatusUnauthorized]+count[http.StatusTooManyRequests] != n {
		t.Fatalf("answers = %v; want at most five 401, at most one 200, and the rest 429", count)
	}
}

// Issue 11 item 1: a success (to the attacker's own account) resets only
// that username's failures, never the address's.
func TestLoginSuccessDoesNotResetTheAddress(t *testing.T) {
	env, _ := newClockEnv(t)
	viewer := env.Token("viewer") // creates t-viewer
	_ = viewer
	got429 := false
	for round := 0; round < 3 && !got429; round++ {
		for i := 0; i < 4; i++ {
			st, b := login(env, servertest.AdminUser, "wrong-Password1")
			if st == http.StatusTooManyRequests {
				got429 = true
				break
			}
			if st != http.StatusUnauthorized {
				t.Fatalf("round %d guess %d: %d %s", round, i, st, b)
			}
		}
		if got429 {
			break
		}
		if st, b := login(env, "t-viewer", servertest.UserPassword); st != http.StatusOK {
			t.Fatalf("round %d: own account login %d %s", round, st, b)
		}
	}
	if !got429 {
		t.Fatal("4 wrong guesses + 1 own success, repeated: never a 429")
	}
}

// Issue 11 item 1: guesses for one username spread over many addresses are
// slowed by an exponential per-username delay, while the real user from an
// address they logged in from before is never held back.
func TestLoginPerUsernameDelay(t *testing.T) {
	c := &clock{t: time.Now()}
	env := trustProxyEnv(t, c)
	// The admin's usual address (the proxy passes 192.0.2.10).
	if st, b := loginFrom(env, "192.0.2.10", servertest.AdminUser, servertest.AdminPassword); st != http.StatusOK {
		t.Fatalf("admin login: %d %s", st, b)
	}
	for i := 1; i <= 5; i++ {
		if st, b := loginFrom(env, fmt.Sprintf("203.0.113.%d", i), servertest.AdminUser, "wrong-Password1"); st != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, st, b)
		}
	}
	// Five failures from five addresses: the sixth address must wait.
	st, b := loginFrom(env, "203.0.113.6", servertest.AdminUser, "wrong-Password1")
	if st != http.StatusTooManyRequests || errMsg(t, b) != "Too many login attempts. Try again in 1 seconds." {
		t.Fatalf("6th address right after: %d %s, want 429 with 1 s", st, b)
	}
	// The real admin from the usual address is not held back.
	if st, b := loginFrom(env, "192.0.2.10", servertest.AdminUser, servertest.AdminPassword); st != http.StatusOK {
		t.Fatalf("admin from the known address: %d %s", st, b)
	}
	// Its success forgot the username's failures.
	if st, b := loginFrom(env, "203.0.113.7", servertest.AdminUser, "wrong-Password1"); st != http.StatusUnauthorized {
		t.Fatalf("after the admin's success: %d %s", st, b)
	}
	for i := 8; i <= 11; i++ {
		loginFrom(env, fmt.Sprintf("203.0.113.%d", i), servertest.AdminUser, "wrong-Password1")
	}
	// The delay doubles with each further failure: 1 s, 2 s, 4 s.
	for _, want := range []int{1, 2, 4} {
		st, b := loginFrom(env, "198.51.100.1", servertest.AdminUser, "wrong-Password1")
		if st != http.StatusTooManyRequests || errMsg(t, b) != fmt.Sprintf("Too many login attempts. Try again in %d seconds.", want) {
			t.Fatalf("delay: %d %s, want 429 with %d s", st, b, want)
		}
		c.Add(time.Duration(want) * time.Second)
		if st, b := loginFrom(env, fmt.Sprintf("198.51.100.%d", want+1), servertest.AdminUser, "wrong-Password1"); st != http.StatusUnauthorized {
			t.Fatalf("after waiting %d s: %d %s", want, st, b)
		}
	}
	// Never a lockout: after the delay, the real password from a new address works.
	c.Add(8 * time.Second)
	if st, b := loginFrom(env, "198.51.100.50", servertest.AdminUser, servertest.AdminPassword); st != http.StatusOK {
		t.Fatalf("admin from a new address after the delay: %d %s", st, b)
	}
}

// Issue 11 item 1 / §13 S7: behind a trusted proxy the client is the
// rightmost untrusted hop, so forging the leftmost X-Forwarded-For entry
// does not dodge the address limit; without trust the header is ignored.
func TestLoginForwardedForRightmostHop(t *testing.T) {
	env := trustProxyEnv(t, nil)
	for i := 1; i <= 5; i++ {
		xff := fmt.Sprintf("10.66.0.%d, 198.51.100.7", i)
		if st, b := loginFrom(env, xff, "nobody", "wrong-Password1"); st != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, st, b)
		}
	}
	if st, b := loginFrom(env, "10.66.0.99, 198.51.100.7", servertest.AdminUser, servertest.AdminPassword); st != http.StatusTooManyRequests {
		t.Fatalf("forged leftmost hop: %d %s, want 429", st, b)
	}
	// Another client behind the same proxy is not affected.
	if st, b := loginFrom(env, "198.51.100.8", servertest.AdminUser, servertest.AdminPassword); st != http.StatusOK {
		t.Fatalf("other client: %d %s", st, b)
	}
	var audit []map[string]any
	env.JSON(http.MethodGet, "/api/audit?action=login_failed", env.Login(servertest.AdminUser, servertest.AdminPassword), nil, &audit)
	for _, a := range audit {
		if a["ip"] != "198.51.100.7" {
			t.Fatalf("login_failed audited from %v, want 198.51.100.7", a["ip"])
		}
	}

	// Without NOBA_TRUST_PROXY the header is ignored: the peer counts.
	plain := servertest.New(t)
	for i := 1; i <= 5; i++ {
		loginFrom(plain, fmt.Sprintf("198.51.100.%d", i), "nobody", "wrong-Password1")
	}
	if st, _ := loginFrom(plain, "198.51.100.200", servertest.AdminUser, servertest.AdminPassword); st != http.StatusTooManyRequests {
		t.Fatalf("untrusted X-Forwarded-For changed the client address: %d", st)
	}
}

// Issue 11 item 2: logins racing a user removal or a password change never
// leave a working token, neither in the running server nor after a restart
// (the persisted sessions, loaded by a fresh auth room).
func TestLoginRacingRevocationLeavesNoToken(t *testing.T) {
	env, c := newClockEnv(t)
	admin := env.Token("admin")
	for round := 0; round < 6; round++ {
		name := fmt.Sprintf("racer%d", round)
		if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "add", "username": name,
			"password": "Secret-pass1", "role": "operator"}); st != http.StatusOK {
			t.Fatalf("add: %d %s", st, b)
		}
		var mu sync.Mutex
		var tokens []string
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := 0; g < 5; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					js, _ := json.Marshal(map[string]string{"username": name, "password": "Secret-pass1"})
					req, _ := http.NewRequest(http.MethodPost, env.URL+"/api/login", strings.NewReader(string(js)))
					req.Header.Set("Content-Type", "application/json")
					resp, err := env.Client.Do(req)
					if err != nil {
						return
					}
					var out struct {
						Token string `json:"token"`
					}
					_ = json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
					if out.Token != "" {
						mu.Lock()
						tokens = append(tokens, out.Token)
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(30 * time.Millisecond)
		action := map[string]string{"action": "remove", "username": name}
		if round%3 == 1 {
			action = map[string]string{"action": "change_password", "username": name, "password": "Changed-pass2"}
		}
		if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, action); st != http.StatusOK {
			t.Fatalf("%s: %d %s", action["action"], st, b)
		}
		if round%3 == 2 {
			// Removed and added again (same name and role, another password): another user.
			action["action"] = "remove+add"
			if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "add", "username": name,
				"password": "Another-pass3", "role": "operator"}); st != http.StatusOK {
				t.Fatalf("add again: %d %s", st, b)
			}
		}
		time.Sleep(20 * time.Millisecond)
		close(stop)
		wg.Wait()
		// The old password no longer works, so every token from it must be dead.
		for _, tok := range tokens {
			if st, _ := env.Do(http.MethodGet, "/api/me", tok, nil); st != http.StatusUnauthorized {
				t.Fatalf("round %d (%s): a token issued with the old credentials still works (%d)", round, action["action"], st)
			}
		}
		// A restart loads the persisted sessions: none of them may come back.
		fresh, err := auth.New(context.Background(), auth.Deps{Store: auth.NewStore(env.Server.DB), Settings: env.Server.Settings,
			Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens {
			if _, err := fresh.Authenticate(context.Background(), tok, false); err == nil {
				t.Fatalf("round %d (%s): a token issued with the old credentials works after a restart", round, action["action"])
			}
		}
		// The failed logins of this round lock 127.0.0.1 out: let the lockout pass.
		c.Add(10 * time.Minute)
	}
}

// Issue 11 item 9: names with NUL, control or bidi characters are refused.
func TestNamesRefuseControlAndBidiCharacters(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	for _, name := range []string{"ad\u202emin", "a\x00b", "x\u2066y", "zero\u200bwidth", "bell\x07"} {
		st, _ := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "add", "username": name,
			"password": "Secret-pass1", "role": "viewer"})
		if st != http.StatusBadRequest {
			t.Errorf("user %q: %d, want 400", name, st)
		}
		st, _ = env.Do(http.MethodPost, "/api/admin/api-keys", admin, map[string]string{"name": name, "role": "viewer"})
		if st != http.StatusBadRequest {
			t.Errorf("API key %q: %d, want 400", name, st)
		}
	}
	var users []map[string]any
	env.JSON(http.MethodGet, "/api/admin/users", admin, nil, &users)
	var keys []map[string]any
	env.JSON(http.MethodGet, "/api/admin/api-keys", admin, nil, &keys)
	if len(users) != 1 || len(keys) != 0 {
		t.Fatalf("something was stored: users %v keys %v", users, keys)
	}
	// Plain non-ASCII names stay welcome.
	if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "add", "username": "zoë",
		"password": "Secret-pass1", "role": "viewer"}); st != http.StatusOK {
		t.Fatalf("zoë: %d %s", st, b)
	}
}

// Issue 11 item 9: every /api/login answer carries Cache-Control: no-store.
func TestLoginAnswersAreNotStored(t *testing.T) {
	env := servertest.New(t)
	for _, pw := range []string{servertest.AdminPassword, "wrong-Password1"} {
		resp := env.Request(http.MethodPost, "/api/login", "", map[string]string{"username": "admin", "password": pw}, nil)
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("login answer %d: Cache-Control %q, want no-store", resp.StatusCode, cc)
		}
	}
}

func wsToken(t *testing.T, env *servertest.Env, tok string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if st := env.JSON(http.MethodPost, "/api/ws-token", tok, nil, &out); st != http.StatusOK || out.Token == "" {
		t.Fatalf("ws-token: %d %v", st, out)
	}
	return out.Token
}

// dialTerminal opens the terminal WebSocket with a one-time token and
// returns the handshake's status.
func dialTerminal(t *testing.T, env *servertest.Env, token string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(env.URL, "http") + "/api/agents/somehost/terminal?token=" + token
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {env.URL}}})
	if err == nil {
		c.Close(websocket.StatusNormalClosure, "")
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	return resp.StatusCode
}

// Issue 11 item 3: the one-time WebSocket token opens one WebSocket
// handshake, is refused on every other route, and dies with its user's
// sessions (demotion, removal).
func TestWSTokenOnlyOnHandshakesOnceAndDiesWithTheUser(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	add := func(name string) string {
		if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "add", "username": name,
			"password": "Secret-pass1", "role": "operator"}); st != http.StatusOK {
			t.Fatalf("add: %d %s", st, b)
		}
		return env.Login(name, "Secret-pass1")
	}
	op := add("oscar")
	wt := wsToken(t, env, op)
	// Not a bearer for ordinary routes, neither in the query nor in the header.
	if st, _ := env.Do(http.MethodGet, "/api/me?token="+wt, "", nil); st != http.StatusUnauthorized {
		t.Fatalf("ws token on GET /api/me?token=: %d, want 401", st)
	}
	if st, _ := env.Do(http.MethodGet, "/api/me", wt, nil); st != http.StatusUnauthorized {
		t.Fatalf("ws token as bearer: %d, want 401", st)
	}
	// It still opens one handshake, once.
	if st := dialTerminal(t, env, wt); st != http.StatusSwitchingProtocols {
		t.Fatalf("terminal handshake: %d, want 101", st)
	}
	if st := dialTerminal(t, env, wt); st != http.StatusUnauthorized {
		t.Fatalf("second use: %d, want 401", st)
	}
	// Demotion drops the user's tokens.
	wt = wsToken(t, env, op)
	if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "set_role", "username": "oscar", "role": "viewer"}); st != http.StatusOK {
		t.Fatalf("demote: %d %s", st, b)
	}
	if st := dialTerminal(t, env, wt); st != http.StatusUnauthorized {
		t.Fatalf("token after demotion: %d, want 401", st)
	}
	// So does removal.
	op2 := add("olga")
	wt = wsToken(t, env, op2)
	if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{"action": "remove", "username": "olga"}); st != http.StatusOK {
		t.Fatalf("remove: %d %s", st, b)
	}
	if st := dialTerminal(t, env, wt); st != http.StatusUnauthorized {
		t.Fatalf("token after removal: %d, want 401", st)
	}
}

func setSettings(t *testing.T, env *servertest.Env, admin string, body map[string]any) {
	t.Helper()
	if st, b := env.Do(http.MethodPost, "/api/settings", admin, body); st != http.StatusOK {
		t.Fatalf("settings: %d %s", st, b)
	}
}

// Spec 10 §13 S8: ipWhitelist is enforced for users (login and every
// guarded route); agents and public routes are not concerned.
func TestIPWhitelistEnforced(t *testing.T) {
	env := trustProxyEnv(t, nil)
	admin := env.Token("admin")
	setSettings(t, env, admin, map[string]any{"ipWhitelist": "198.51.100.0/24, 192.0.2.7"})
	me := func(xff string) int {
		resp := env.Request(http.MethodGet, "/api/me", admin, nil, map[string]string{"X-Forwarded-For": xff})
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := me("198.51.100.20"); st != http.StatusOK {
		t.Fatalf("listed range: %d", st)
	}
	if st := me("192.0.2.7"); st != http.StatusOK {
		t.Fatalf("listed address: %d", st)
	}
	if st := me("203.0.113.9"); st != http.StatusForbidden {
		t.Fatalf("unlisted address: %d, want 403", st)
	}
	if st, b := loginFrom(env, "203.0.113.9", servertest.AdminUser, servertest.AdminPassword); st != http.StatusForbidden ||
		errMsg(t, b) != "Access denied from this address" {
		t.Fatalf("login from an unlisted address: %d %s", st, b)
	}
	if st, b := loginFrom(env, "198.51.100.1", servertest.AdminUser, servertest.AdminPassword); st != http.StatusOK {
		t.Fatalf("login from a listed address: %d %s", st, b)
	}
	resp := env.Request(http.MethodGet, "/api/health", "", nil, map[string]string{"X-Forwarded-For": "203.0.113.9"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("public health from an unlisted address: %d", resp.StatusCode)
	}
}

// Spec 10 §13 S8: with require2fa, a user without TOTP gets a session that
// reaches only the 2FA setup routes until TOTP is enabled.
func TestRequire2FAEnforced(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	viewer := env.Token("viewer")
	setSettings(t, env, admin, map[string]any{"require2fa": true})
	var res struct {
		Token            string `json:"token"`
		Requires2FASetup bool   `json:"requires_2fa_setup"`
	}
	st, b := login(env, "t-viewer", servertest.UserPassword)
	if err := json.Unmarshal(b, &res); st != http.StatusOK || err != nil || !res.Requires2FASetup {
		t.Fatalf("login: %d %s", st, b)
	}
	for _, tok := range []string{viewer, res.Token} { // sessions from before and after the switch
		if st, b := env.Do(http.MethodGet, "/api/settings", tok, nil); st != http.StatusForbidden ||
			errMsg(t, b) != "Two-factor authentication must be set up first" {
			t.Fatalf("guarded route before 2FA setup: %d %s", st, b)
		}
		if st, _ := env.Do(http.MethodGet, "/api/me", tok, nil); st != http.StatusOK {
			t.Fatalf("/api/me before 2FA setup: %d", st)
		}
	}
	var setup struct {
		Secret string `json:"secret"`
	}
	if st := env.JSON(http.MethodPost, "/api/auth/totp/setup", res.Token, nil, &setup); st != http.StatusOK {
		t.Fatalf("totp setup: %d", st)
	}
	code, err := totp.GenerateCode(setup.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st, b := env.Do(http.MethodPost, "/api/auth/totp/enable", res.Token, map[string]string{"secret": setup.Secret, "code": code}); st != http.StatusOK {
		t.Fatalf("totp enable: %d %s", st, b)
	}
	if st, b := env.Do(http.MethodGet, "/api/settings", res.Token, nil); st != http.StatusOK {
		t.Fatalf("after enabling 2FA: %d %s", st, b)
	}
	// The admin, who has no TOTP either, is held back the same way.
	var key struct {
		Key string `json:"key"`
	}
	if st := env.JSON(http.MethodPost, "/api/admin/api-keys", admin, map[string]string{"name": "ci", "role": "viewer"}, &key); st != http.StatusForbidden {
		t.Fatalf("the admin without 2FA created a key: %d", st)
	}
}

// Spec 10 §13 S13: TOTP secrets are sealed at rest; plain ones (users.conf
// imports, older databases) are sealed at start and still work.
func TestTOTPSecretsSealedAtRest(t *testing.T) {
	env := servertest.New(t)
	tok := env.Token("operator")
	var setup struct {
		Secret string `json:"secret"`
	}
	if st := env.JSON(http.MethodPost, "/api/auth/totp/setup", tok, nil, &setup); st != http.StatusOK {
		t.Fatalf("setup: %d", st)
	}
	code, _ := totp.GenerateCode(setup.Secret, time.Now())
	if st, b := env.Do(http.MethodPost, "/api/auth/totp/enable", tok, map[string]string{"secret": setup.Secret, "code": code}); st != http.StatusOK {
		t.Fatalf("enable: %d %s", st, b)
	}
	stored := func(user string) string {
		var s string
		if err := env.Server.DB.R.QueryRow(`SELECT totp_secret FROM users WHERE username = ?`, user).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := stored("t-operator"); s == "" || strings.Contains(s, setup.Secret) || !strings.HasPrefix(s, "ENC:") {
		t.Fatalf("stored TOTP secret %q is not sealed", s)
	}
	// The sealed secret still checks codes.
	st, b := env.Do(http.MethodPost, "/api/login", "", map[string]string{"username": "t-operator", "password": servertest.UserPassword, "totp_code": code})
	if st != http.StatusOK {
		t.Fatalf("login with the code: %d %s", st, b)
	}
	// A plain secret left by an older database is sealed at start.
	const plain = "JBSWY3DPEHPK3PXP"
	if _, err := env.Server.DB.W.Exec(`UPDATE users SET totp_secret = ? WHERE username = 'admin'`, plain); err != nil {
		t.Fatal(err)
	}
	fresh, err := auth.New(context.Background(), auth.Deps{Store: auth.NewStore(env.Server.DB), Settings: env.Server.Settings,
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	master, err := env.Server.Settings.MasterKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.SealTOTP(context.Background(), master, filepath.Join(env.Dir, ".totp.key")); err != nil {
		t.Fatal(err)
	}
	if s := stored("admin"); !strings.HasPrefix(s, "ENC:") || strings.Contains(s, plain) {
		t.Fatalf("plain secret not sealed at start: %q", s)
	}
	code, _ = totp.GenerateCode(plain, time.Now().Add(30*time.Second))
	st, b = env.Do(http.MethodPost, "/api/login", "", map[string]string{"username": "admin", "password": servertest.AdminPassword, "totp_code": code})
	if st != http.StatusOK {
		t.Fatalf("admin login with a code of the sealed plain secret: %d %s", st, b)
	}
}
