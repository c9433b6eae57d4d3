package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/noba-go/noba/internal/server/servertest"
)

// idp is a small but real OpenID Connect provider on loopback: discovery,
// JWKS, authorize (auto-consenting as the current user), token (single-use
// codes, PKCE S256, client secret, redirect_uri check, RS256 ID tokens) and
// userinfo (GitHub-style, for the social flow).
type idp struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	signer jose.Signer

	mu       sync.Mutex
	sub      string
	login    string
	email    string
	badNonce bool
	grants   map[string]*grant
	access   map[string]string // access token -> sub
	redeemed int
}

type grant struct {
	clientID, redirect, challenge, nonce, sub string
	used                                      bool
}

const (
	clientID     = "noba-test"
	clientSecret = "s3cret-client"
)

func newIDP(t *testing.T) *idp {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{t: t, key: key, signer: sig, grants: map[string]*grant{}, access: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) as(sub, login, email string) {
	p.mu.Lock()
	p.sub, p.login, p.email = sub, login, email
	p.mu.Unlock()
}

func (p *idp) discovery(w http.ResponseWriter, _ *http.Request) {
	u := p.srv.URL
	_ = json.NewEncoder(w).Encode(map[string]any{"issuer": u, "authorization_endpoint": u + "/authorize",
		"token_endpoint": u + "/token", "jwks_uri": u + "/jwks", "userinfo_endpoint": u + "/userinfo",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"}})
}

func (p *idp) jwks(w http.ResponseWriter, _ *http.Request) {
	_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

func (p *idp) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("state") == "" {
		http.Error(w, "bad authorize request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	code := rand.Text()
	p.mu.Lock()
	p.grants[code] = &grant{clientID: q.Get("client_id"), redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
		nonce: q.Get("nonce"), sub: p.sub}
	p.mu.Unlock()
	http.Redirect(w, r, q.Get("redirect_uri")+"?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
}

func (p *idp) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	fail := func(e string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": e})
	}
	if id != clientID || secret != clientSecret {
		fail("invalid_client")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.grants[r.PostForm.Get("code")]
	if !ok || g.used {
		fail("invalid_grant")
		return
	}
	g.used = true
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || r.PostForm.Get("redirect_uri") != g.redirect {
		fail("invalid_grant")
		return
	}
	p.redeemed++
	nonce := g.nonce
	if p.badNonce {
		nonce = "not-the-nonce"
	}
	now := time.Now()
	claims := map[string]any{"iss": p.srv.URL, "sub": g.sub, "aud": clientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce": nonce, "email": p.email, "email_verified": true, "preferred_username": p.login}
	payload, _ := json.Marshal(claims)
	jws, err := p.signer.Sign(payload)
	if err != nil {
		p.t.Errorf("sign: %v", err)
		return
	}
	idt, _ := jws.CompactSerialize()
	at := rand.Text()
	p.access[at] = g.sub
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 300, "id_token": idt})
}

func (p *idp) userinfo(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	sub, ok := p.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	login, email := p.login, p.email
	p.mu.Unlock()
	if !ok {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	// GitHub's shape: a numeric id and a login.
	var n int
	_, _ = fmt.Sscan(strings.TrimPrefix(sub, "u"), &n)
	_ = json.NewEncoder(w).Encode(map[string]any{"id": n, "login": login, "email": email, "name": "Octo " + login})
}

// browser follows nothing: each hop is checked by the test.
var browser = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// flow starts at start (a NOBA URL), passes the provider, and returns the
// callback URL the provider sends the browser back to.
func flow(t *testing.T, start string) string {
	t.Helper()
	resp, body := get(t, start)
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("start %s: %d %s", start, resp.StatusCode, body)
	}
	authz := resp.Header.Get("Location")
	resp, body = get(t, authz)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize %s: %d %s", authz, resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

func ssoErr(t *testing.T, body string) string {
	t.Helper()
	var e struct{ Error, Detail string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error != e.Detail {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e.Error
}

func TestSSOGenericOIDC(t *testing.T) {
	p := newIDP(t)
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")

	// Not configured yet.
	resp, body := get(t, env.URL+"/api/auth/oidc/login")
	if resp.StatusCode != http.StatusBadRequest || ssoErr(t, body) != "OIDC not configured" {
		t.Fatalf("unconfigured: %d %s", resp.StatusCode, body)
	}
	if st, b := env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"oidcProviderUrl": p.srv.URL, "oidcClientId": clientID,
		"oidcClientSecret": clientSecret, "oidcProviderName": "Test IdP", "ssoBaseUrl": env.URL}); st != http.StatusOK {
		t.Fatalf("settings: %d %s", st, b)
	}
	var provs []map[string]string
	env.JSON(http.MethodGet, "/api/auth/providers", "", nil, &provs)
	if len(provs) != 1 || provs[0]["url"] != "/api/auth/oidc/login" || provs[0]["name"] != "Test IdP" {
		t.Fatalf("providers: %v", provs)
	}

	// The authorization request carries PKCE, a nonce and the configured redirect URI.
	resp, _ = get(t, env.URL+"/api/auth/oidc/login")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if !strings.HasPrefix(loc.String(), p.srv.URL+"/authorize") || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" ||
		q.Get("redirect_uri") != env.URL+"/api/auth/oidc/callback" || !strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("authorize URL: %s", loc)
	}

	// An identity that is linked to no account is refused, even when its
	// username claim names an existing user.
	p.as("u1001", "admin", "admin@example.test")
	cb := flow(t, env.URL+"/api/auth/oidc/login")
	resp, body = get(t, cb)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(ssoErr(t, body), "No NOBA account is linked") {
		t.Fatalf("unlinked identity: %d %s", resp.StatusCode, body)
	}

	// A rejected state: unknown, and a replayed one.
	resp, body = get(t, env.URL+"/api/auth/oidc/callback?code=x&state=forged")
	if resp.StatusCode != http.StatusBadRequest || ssoErr(t, body) != "Invalid or expired OAuth state" {
		t.Fatalf("forged state: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, cb)
	if resp.StatusCode != http.StatusBadRequest || ssoErr(t, body) != "Invalid or expired OAuth state" {
		t.Fatalf("replayed state: %d %s", resp.StatusCode, body)
	}

	// Linking: the signed-in viewer links the identity.
	resp, body = get(t, env.URL+"/api/auth/social/oidc/link")
	if resp.StatusCode != http.StatusUnauthorized || ssoErr(t, body) != "Token required" {
		t.Fatalf("link without token: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, env.URL+"/api/auth/social/oidc/link?token=nope")
	if resp.StatusCode != http.StatusUnauthorized || ssoErr(t, body) != "Invalid token" {
		t.Fatalf("link with bad token: %d %s", resp.StatusCode, body)
	}
	p.as("u1001", "admin", "viewer@example.test")
	cb = flow(t, env.URL+"/api/auth/social/oidc/link?token="+url.QueryEscape(viewer))
	if !strings.HasPrefix(cb, env.URL+"/api/auth/social/oidc/link/callback?") {
		t.Fatalf("link callback URL: %s", cb)
	}
	// A link callback's state is not a login state.
	loginCB := strings.Replace(cb, "/api/auth/social/oidc/link/callback", "/api/auth/oidc/callback", 1)
	resp, body = get(t, loginCB)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("link state used for login: %d %s", resp.StatusCode, body)
	}
	// That attempt consumed the state: link again.
	cb = flow(t, env.URL+"/api/auth/social/oidc/link?token="+url.QueryEscape(viewer))
	resp, body = get(t, cb)
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "/profile?linked=oidc" {
		t.Fatalf("link callback: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	var linked map[string]struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		LinkedAt int64  `json:"linked_at"`
	}
	if st := env.JSON(http.MethodGet, "/api/auth/linked-providers", viewer, nil, &linked); st != http.StatusOK ||
		linked["oidc"].Email != "viewer@example.test" || linked["oidc"].Name != "Test IdP" || linked["oidc"].LinkedAt == 0 {
		t.Fatalf("linked providers: %d %+v", st, linked)
	}
	// The same identity cannot be linked to a second account.
	cb = flow(t, env.URL+"/api/auth/social/oidc/link?token="+url.QueryEscape(admin))
	if resp, body = get(t, cb); resp.StatusCode != http.StatusConflict {
		t.Fatalf("second link: %d %s", resp.StatusCode, body)
	}

	// Signing in with the linked identity gives the viewer's session, through a single-use code.
	cb = flow(t, env.URL+"/api/auth/oidc/login")
	resp, body = get(t, cb)
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(resp.Header.Get("Location"), "/#oidc_code=") {
		t.Fatalf("login callback: %d %s", resp.StatusCode, body)
	}
	code := strings.TrimPrefix(resp.Header.Get("Location"), "/#oidc_code=")
	var tok struct{ Token string }
	if st := env.JSON(http.MethodPost, "/api/auth/oidc/exchange", "", map[string]string{"code": code}, &tok); st != http.StatusOK || tok.Token == "" {
		t.Fatalf("exchange: %d", st)
	}
	var me struct{ Username, Role string }
	if st := env.JSON(http.MethodGet, "/api/me", tok.Token, nil, &me); st != http.StatusOK || me.Username != "t-viewer" || me.Role != "viewer" {
		t.Fatalf("me after SSO: %d %+v", st, me)
	}
	var e struct{ Error string }
	if st := env.JSON(http.MethodPost, "/api/auth/oidc/exchange", "", map[string]string{"code": code}, &e); st != http.StatusUnauthorized || e.Error != "Invalid or expired code" {
		t.Fatalf("replayed exchange code: %d %+v", st, e)
	}
	if st := env.JSON(http.MethodPost, "/api/auth/oidc/exchange", "", map[string]string{}, &e); st != http.StatusBadRequest || e.Error != "Missing code" {
		t.Fatalf("missing exchange code: %d %+v", st, e)
	}

	// A replayed authorization code: a fresh state with a code the provider already redeemed.
	oldCode, _ := url.Parse(cb)
	fresh, _ := url.Parse(flow(t, env.URL+"/api/auth/oidc/login"))
	fq := fresh.Query()
	fq.Set("code", oldCode.Query().Get("code"))
	fresh.RawQuery = fq.Encode()
	resp, body = get(t, fresh.String())
	if resp.StatusCode != http.StatusBadGateway || ssoErr(t, body) != "OIDC authentication failed" {
		t.Fatalf("replayed authorization code: %d %s", resp.StatusCode, body)
	}

	// An ID token whose nonce is not the request's is refused.
	p.mu.Lock()
	p.badNonce = true
	p.mu.Unlock()
	resp, body = get(t, flow(t, env.URL+"/api/auth/oidc/login"))
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("bad nonce: %d %s", resp.StatusCode, body)
	}
	p.mu.Lock()
	p.badNonce = false
	p.mu.Unlock()

	// Unlinking: the identity no longer signs in.
	if st := env.JSON(http.MethodDelete, "/api/auth/linked-providers/github", viewer, nil, &e); st != http.StatusNotFound || e.Error != "Provider 'github' not linked" {
		t.Fatalf("unlink unknown: %d %+v", st, e)
	}
	var un struct{ Status, Provider string }
	if st := env.JSON(http.MethodDelete, "/api/auth/linked-providers/oidc", viewer, nil, &un); st != http.StatusOK || un.Status != "unlinked" || un.Provider != "oidc" {
		t.Fatalf("unlink: %d %+v", st, un)
	}
	resp, body = get(t, flow(t, env.URL+"/api/auth/oidc/login"))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after unlink: %d %s", resp.StatusCode, body)
	}

	var audit []struct{ Action, Username string }
	env.JSON(http.MethodGet, "/api/audit?limit=100", admin, nil, &audit)
	seen := map[string]bool{}
	for _, a := range audit {
		seen[a.Action+"/"+a.Username] = true
	}
	for _, want := range []string{"social_link/t-viewer", "oidc_login/t-viewer", "social_unlink/t-viewer"} {
		if !seen[want] {
			t.Errorf("audit lacks %s", want)
		}
	}
}

func TestSSOSocialPreset(t *testing.T) {
	p := newIDP(t)
	env := servertest.New(t)
	admin, op := env.Token("admin"), env.Token("operator")

	resp, body := get(t, env.URL+"/api/auth/social/github/login")
	if resp.StatusCode != http.StatusBadRequest || ssoErr(t, body) != "Provider 'github' not configured" {
		t.Fatalf("unconfigured github: %d %s", resp.StatusCode, body)
	}
	gh := map[string]any{"clientId": clientID, "clientSecret": clientSecret, "authUrl": p.srv.URL + "/authorize",
		"tokenUrl": p.srv.URL + "/token", "userinfoUrl": p.srv.URL + "/userinfo"}
	if st, b := env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"socialProviders": map[string]any{"github": gh}, "ssoBaseUrl": env.URL}); st != http.StatusOK {
		t.Fatalf("settings: %d %s", st, b)
	}
	var provs []map[string]string
	env.JSON(http.MethodGet, "/api/auth/providers", "", nil, &provs)
	if len(provs) != 1 || provs[0]["id"] != "github" || provs[0]["url"] != "/api/auth/social/github/login" {
		t.Fatalf("providers: %v", provs)
	}
	// The client secret never leaves the server.
	if _, b := env.Do(http.MethodGet, "/api/settings", admin, nil); strings.Contains(string(b), clientSecret) {
		t.Fatalf("settings leak the client secret: %s", b)
	}

	// GitHub login "admin": no takeover of the local admin.
	p.as("u77", "admin", "")
	resp, body = get(t, flow(t, env.URL+"/api/auth/social/github/login"))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unlinked github identity: %d %s", resp.StatusCode, body)
	}

	// The operator links it with a one-time WebSocket token (no session token in the URL).
	var ws struct{ Token string }
	if st := env.JSON(http.MethodPost, "/api/ws-token", op, nil, &ws); st != http.StatusOK || ws.Token == "" {
		t.Fatalf("ws-token: %d", st)
	}
	resp, body = get(t, flow(t, env.URL+"/api/auth/social/github/link?token="+url.QueryEscape(ws.Token)))
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("github link: %d %s", resp.StatusCode, body)
	}
	var linked map[string]map[string]any
	env.JSON(http.MethodGet, "/api/auth/linked-providers", op, nil, &linked)
	if linked["github"]["name"] != "GitHub" {
		t.Fatalf("linked: %v", linked)
	}
	resp, body = get(t, flow(t, env.URL+"/api/auth/social/github/login"))
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("github login: %d %s", resp.StatusCode, body)
	}
	var tok struct{ Token string }
	env.JSON(http.MethodPost, "/api/auth/oidc/exchange", "", map[string]string{"code": strings.TrimPrefix(resp.Header.Get("Location"), "/#oidc_code=")}, &tok)
	var me struct{ Username string }
	if st := env.JSON(http.MethodGet, "/api/me", tok.Token, nil, &me); st != http.StatusOK || me.Username != "t-operator" {
		t.Fatalf("me: %d %+v", st, me)
	}
	// Removing the user removes its links.
	if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]any{"action": "remove", "username": "t-operator"}); st != http.StatusOK {
		t.Fatalf("remove user: %d %s", st, b)
	}
	resp, body = get(t, flow(t, env.URL+"/api/auth/social/github/login"))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("identity of a removed user: %d %s", resp.StatusCode, body)
	}
}
