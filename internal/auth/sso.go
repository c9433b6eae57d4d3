package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Single sign-on (spec 10 §2.9, §8.10–8.18, with the §13 S3 fixes):
//
//   - Generic OIDC discovers the provider (`<oidcProviderUrl>/.well-known/
//     openid-configuration`), sends PKCE (S256), a state and a nonce, and
//     verifies the ID token (signature by the provider's JWKS, issuer,
//     audience, expiry, nonce) before trusting any claim.
//   - Social presets (google, facebook, github, microsoft) are OAuth2 with
//     PKCE and state; the identity is the provider's stable user id from
//     its userinfo endpoint.
//   - An external identity signs in only as the local user it was linked to
//     (table linked_providers, made by the link flow of a signed-in user).
//     No claim (email, preferred_username, login) is ever matched against
//     local usernames, and no account is created: an unlinked identity is
//     refused with 403.
//   - Redirect URIs are built from the `ssoBaseUrl` setting (the server's
//     external URL), falling back to the request's own scheme and host.
//
// States (600 s) and one-time exchange codes (60 s) are single-use and kept
// in memory.

const (
	stateTTL     = 600 * time.Second
	exchangeTTL  = 60 * time.Second
	maxPending   = 10_000
	ssoTimeout   = 10 * time.Second
	maxSSOAnswer = 1 << 20
)

type socialPreset struct {
	name, auth, token, userinfo string
	scopes                      []string
}

var socialPresets = map[string]socialPreset{
	"google": {"Google", "https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token",
		"https://openidconnect.googleapis.com/v1/userinfo", []string{"openid", "email", "profile"}},
	"facebook": {"Facebook", "https://www.facebook.com/v19.0/dialog/oauth", "https://graph.facebook.com/v19.0/oauth/access_token",
		"https://graph.facebook.com/me?fields=id,name,email", []string{"email", "public_profile"}},
	"github": {"GitHub", "https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token",
		"https://api.github.com/user", []string{"read:user", "user:email"}},
	"microsoft": {"Microsoft", "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
		"https://login.microsoftonline.com/common/oauth2/v2.0/token", "https://graph.microsoft.com/v1.0/me",
		[]string{"openid", "email", "profile", "User.Read"}},
}

// ssoProvider is a resolved, configured provider.
type ssoProvider struct {
	key      string // "oidc" or a preset key: the provider column of links
	name     string // display name
	oidc     bool
	issuer   string
	clientID string
	secret   string
	// social endpoints
	authURL, tokenURL, userinfoURL string
	scopes                         []string
}

type ssoState struct {
	purpose  string // login | oidc_login | link
	provider string
	verifier string
	nonce    string
	redirect string
	token    string // link: the session token that started the flow
	user     string // link: the user it belonged to
	created  time.Time
}

type exchangeCode struct {
	token   string
	expires time.Time
}

type sso struct {
	r      *Room
	links  linkStore
	client *http.Client

	mu     sync.Mutex
	states map[string]ssoState
	codes  map[string]exchangeCode
}

func newSSO(r *Room) *sso {
	ls, _ := r.d.Store.(linkStore)
	return &sso{r: r, links: ls, client: &http.Client{Timeout: ssoTimeout},
		states: map[string]ssoState{}, codes: map[string]exchangeCode{}}
}

// routes mounts the single-sign-on routes of router 2.
func (s *sso) routes(rt *httpx.Router) {
	rt.HandleFunc(httpx.Op(http.MethodGet, "/api/auth/social/{provider}/login", authz.Public, "Redirect to social provider login"), s.socialLogin)
	rt.HandleFunc(httpx.Op(http.MethodGet, "/api/auth/social/{provider}/callback", authz.Public, "Handle social provider callback"), s.socialCallback)
	rt.HandleFunc(httpx.Op(http.MethodGet, "/api/auth/social/{provider}/link", authz.Public, "Initiate account linking to provider"), s.linkStart)
	rt.HandleFunc(httpx.Op(http.MethodGet, "/api/auth/social/{provider}/link/callback", authz.Public, "Handle account link callback"), s.linkCallback)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/auth/linked-providers", authz.Read, "List linked social providers"), s.linkedProviders)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/auth/linked-providers/{provider}", authz.Read, "Unlink a social provider"), s.unlink)
	rt.HandleFunc(httpx.Op(http.MethodGet, "/api/auth/oidc/login", authz.Public, "Redirect to generic OIDC provider"), s.oidcLogin)
	rt.HandleFunc(httpx.Op(http.MethodGet, "/api/auth/oidc/callback", authz.Public, "Handle OIDC callback"), s.oidcCallback)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/auth/oidc/exchange", authz.Public, "Exchange OIDC code for token"), s.exchange)
}

func settingString(st map[string]any, k string) string {
	v, _ := st[k].(string)
	return strings.TrimSpace(v)
}

// resolve finds the configured provider for key: a preset needs its
// socialProviders entry; any other key is generic OIDC.
func (s *sso) resolve(key string) (ssoProvider, error) {
	st := s.r.d.Settings.View() // shared: read only
	if p, ok := socialPresets[key]; ok {
		sp, _ := st["socialProviders"].(map[string]any)
		c, _ := sp[key].(map[string]any)
		id := settingString(c, "clientId")
		if id == "" {
			return ssoProvider{}, httpx.Invalid("Provider '%s' not configured", key)
		}
		out := ssoProvider{key: key, name: p.name, clientID: id, secret: settingString(c, "clientSecret"),
			authURL: p.auth, tokenURL: p.token, userinfoURL: p.userinfo, scopes: p.scopes}
		// Self-hosted gateways (and tests) may override the endpoints.
		for k, dst := range map[string]*string{"authUrl": &out.authURL, "tokenUrl": &out.tokenURL, "userinfoUrl": &out.userinfoURL} {
			if v := settingString(c, k); v != "" {
				*dst = v
			}
		}
		return out, nil
	}
	u, id := strings.TrimRight(settingString(st, "oidcProviderUrl"), "/"), settingString(st, "oidcClientId")
	if u == "" || id == "" {
		if key == "" || key == "oidc" {
			return ssoProvider{}, httpx.Invalid("OIDC not configured")
		}
		return ssoProvider{}, httpx.Invalid("Provider '%s' not configured", key)
	}
	name := settingString(st, "oidcProviderName")
	if name == "" {
		name = "SSO"
	}
	return ssoProvider{key: "oidc", name: name, oidc: true, issuer: u, clientID: id, secret: settingString(st, "oidcClientSecret")}, nil
}

// baseURL is the server's external URL, from ssoBaseUrl or the request.
func (s *sso) baseURL(req *http.Request) string {
	if b := strings.TrimRight(strings.TrimSpace(s.r.d.Settings.Current().SSOBaseURL), "/"); b != "" {
		return b
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + req.Host
}

func (s *sso) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, s.client), s.client)
}

func (s *sso) pruneLocked(now time.Time) {
	for k, v := range s.states {
		if now.Sub(v.created) > stateTTL {
			delete(s.states, k)
		}
	}
	for k, v := range s.codes {
		if !now.Before(v.expires) {
			delete(s.codes, k)
		}
	}
}

func (s *sso) newState(st ssoState) (string, error) {
	id, err := randomToken(32)
	if err != nil {
		return "", err
	}
	now := s.r.d.Now()
	st.created = now
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	if len(s.states) >= maxPending {
		return "", httpx.Unavailable("Too many sign-ins in progress; try again in a few minutes")
	}
	s.states[id] = st
	return id, nil
}

// popState removes and returns the state if it is live and of purpose.
func (s *sso) popState(id, purpose string) (ssoState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[id]
	delete(s.states, id)
	if !ok || st.purpose != purpose || s.r.d.Now().Sub(st.created) > stateTTL {
		return ssoState{}, false
	}
	return st, true
}

// authorizeURL starts a flow: it stores the state and returns the
// provider's authorization URL.
func (s *sso) authorizeURL(ctx context.Context, p ssoProvider, st ssoState) (string, error) {
	st.provider = p.key
	st.verifier = oauth2.GenerateVerifier()
	cfg, err := s.oauthConfig(ctx, p, st.redirect)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(st.verifier)}
	if p.oidc {
		n, err := randomToken(24)
		if err != nil {
			return "", err
		}
		st.nonce = n
		opts = append(opts, oidc.Nonce(n))
	} else if p.key == "google" && st.purpose == "login" {
		opts = append(opts, oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("prompt", "select_account"))
	}
	id, err := s.newState(st)
	if err != nil {
		return "", err
	}
	return cfg.AuthCodeURL(id, opts...), nil
}

func (s *sso) discover(ctx context.Context, p ssoProvider) (*oidc.Provider, error) {
	op, err := oidc.NewProvider(s.ctx(ctx), p.issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc discovery %s: %w", p.issuer, err)
	}
	return op, nil
}

func (s *sso) oauthConfig(ctx context.Context, p ssoProvider, redirect string) (*oauth2.Config, error) {
	cfg := &oauth2.Config{ClientID: p.clientID, ClientSecret: p.secret, RedirectURL: redirect, Scopes: p.scopes}
	if p.oidc {
		op, err := s.discover(ctx, p)
		if err != nil {
			return nil, httpx.BadGateway("%s is not reachable: its discovery document could not be read", p.name)
		}
		cfg.Endpoint = op.Endpoint()
		cfg.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
		return cfg, nil
	}
	cfg.Endpoint = oauth2.Endpoint{AuthURL: p.authURL, TokenURL: p.tokenURL}
	return cfg, nil
}

// identity is what a finished flow proved.
type identity struct {
	subject, email, name string
}

// finish exchanges the code (with the PKCE verifier) and proves the
// identity: the verified ID token for OIDC, the userinfo id for social.
func (s *sso) finish(ctx context.Context, p ssoProvider, st ssoState, code string) (identity, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*ssoTimeout)
	defer cancel()
	hc := s.ctx(ctx)
	if p.oidc {
		op, err := s.discover(ctx, p)
		if err != nil {
			return identity{}, err
		}
		cfg := &oauth2.Config{ClientID: p.clientID, ClientSecret: p.secret, RedirectURL: st.redirect, Endpoint: op.Endpoint()}
		tok, err := cfg.Exchange(hc, code, oauth2.VerifierOption(st.verifier))
		if err != nil {
			return identity{}, fmt.Errorf("code exchange: %w", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		if raw == "" {
			return identity{}, errors.New("token response without id_token")
		}
		idt, err := op.Verifier(&oidc.Config{ClientID: p.clientID, Now: s.r.d.Now}).Verify(hc, raw)
		if err != nil {
			return identity{}, fmt.Errorf("id token: %w", err)
		}
		if idt.Nonce == "" || idt.Nonce != st.nonce {
			return identity{}, errors.New("id token nonce does not match the request")
		}
		var c struct {
			Email    string `json:"email"`
			Name     string `json:"name"`
			Username string `json:"preferred_username"`
		}
		if err := idt.Claims(&c); err != nil {
			return identity{}, fmt.Errorf("id token claims: %w", err)
		}
		name := c.Name
		if name == "" {
			name = c.Username
		}
		return identity{subject: idt.Issuer + "#" + idt.Subject, email: c.Email, name: name}, nil
	}
	cfg := &oauth2.Config{ClientID: p.clientID, ClientSecret: p.secret, RedirectURL: st.redirect,
		Endpoint: oauth2.Endpoint{AuthURL: p.authURL, TokenURL: p.tokenURL}}
	tok, err := cfg.Exchange(hc, code, oauth2.VerifierOption(st.verifier))
	if err != nil {
		return identity{}, fmt.Errorf("code exchange: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.userinfoURL, nil)
	if err != nil {
		return identity{}, err
	}
	req.Header.Set("Accept", "application/json")
	tok.SetAuthHeader(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return identity{}, fmt.Errorf("userinfo: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return identity{}, fmt.Errorf("userinfo: status %d", resp.StatusCode)
	}
	var info map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSSOAnswer)).Decode(&info); err != nil {
		return identity{}, fmt.Errorf("userinfo: %w", err)
	}
	id := claimString(info, "sub", "id")
	if id == "" {
		return identity{}, errors.New("userinfo without a user id")
	}
	return identity{subject: id, email: claimString(info, "email", "mail"), name: claimString(info, "name", "login", "preferred_username")}, nil
}

// claimString is the first non-empty of keys, numbers rendered as integers.
func claimString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			if v != "" {
				return v
			}
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return ""
}

func (s *sso) start(w http.ResponseWriter, req *http.Request, key, purpose, callbackPath string, link ssoState) {
	p, err := s.resolve(key)
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	link.purpose = purpose
	link.redirect = s.baseURL(req) + strings.ReplaceAll(callbackPath, "{provider}", url.PathEscape(key))
	u, err := s.authorizeURL(req.Context(), p, link)
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	http.Redirect(w, req, u, http.StatusTemporaryRedirect)
}

func (s *sso) socialLogin(w http.ResponseWriter, req *http.Request) {
	if s.links == nil {
		httpx.WriteError(w, http.StatusServiceUnavailable, "Single sign-on is not available")
		return
	}
	s.start(w, req, req.PathValue("provider"), "login", "/api/auth/social/{provider}/callback", ssoState{})
}

func (s *sso) oidcLogin(w http.ResponseWriter, req *http.Request) {
	if s.links == nil {
		httpx.WriteError(w, http.StatusServiceUnavailable, "Single sign-on is not available")
		return
	}
	s.start(w, req, "oidc", "oidc_login", "/api/auth/oidc/callback", ssoState{})
}

func (s *sso) socialCallback(w http.ResponseWriter, req *http.Request) {
	s.loginCallback(w, req, req.PathValue("provider"), "login", "social_login")
}

func (s *sso) oidcCallback(w http.ResponseWriter, req *http.Request) {
	s.loginCallback(w, req, "oidc", "oidc_login", "oidc_login")
}

// callbackCommon checks state, provider and code and proves the identity.
func (s *sso) callbackCommon(w http.ResponseWriter, req *http.Request, key, purpose, failMsg string) (ssoProvider, ssoState, identity, bool) {
	q := req.URL.Query()
	st, ok := s.popState(q.Get("state"), purpose)
	if !ok {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid or expired OAuth state")
		return ssoProvider{}, st, identity{}, false
	}
	p, err := s.resolve(key)
	if err != nil {
		httpx.WriteErr(w, err)
		return p, st, identity{}, false
	}
	if p.key != st.provider {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid or expired OAuth state")
		return p, st, identity{}, false
	}
	if e := q.Get("error"); e != "" {
		httpx.WriteError(w, http.StatusBadRequest, fmt.Sprintf("%s refused the sign-in: %s", p.name, e))
		return p, st, identity{}, false
	}
	code := q.Get("code")
	if code == "" {
		httpx.WriteError(w, http.StatusBadRequest, "Missing authorization code")
		return p, st, identity{}, false
	}
	id, err := s.finish(req.Context(), p, st, code)
	if err != nil {
		s.r.d.Log.Warn("sso callback failed", "provider", p.key, "purpose", purpose, "err", err)
		httpx.WriteError(w, http.StatusBadGateway, strings.ReplaceAll(failMsg, "%p", p.name))
		return p, st, identity{}, false
	}
	return p, st, id, true
}

func (s *sso) loginCallback(w http.ResponseWriter, req *http.Request, key, purpose, action string) {
	if s.links == nil {
		httpx.WriteError(w, http.StatusServiceUnavailable, "Single sign-on is not available")
		return
	}
	fail := "%p authentication failed"
	if purpose == "oidc_login" {
		fail = "OIDC authentication failed"
	}
	p, _, id, ok := s.callbackCommon(w, req, key, purpose, fail)
	if !ok {
		return
	}
	ctx := req.Context()
	ip := httpx.ClientIP(ctx)
	l, err := s.links.LinkByIdentity(ctx, p.key, id.subject)
	if errors.Is(err, ErrNotFound) {
		s.r.d.Audit.Record(ctx, "login_failed", "unknown", fmt.Sprintf("%s identity %s is not linked to an account", p.name, id.subject), ip)
		httpx.WriteError(w, http.StatusForbidden, fmt.Sprintf("No NOBA account is linked to this %s identity. Sign in with your password and link it on your profile first.", p.name))
		return
	}
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	u, err := s.r.d.Store.User(ctx, l.Username)
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	role, okRole := authz.ParseRole(u.Role)
	if !okRole {
		role = authz.ViewerRole
	}
	tok, err := s.r.issue(ctx, u, role)
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	s.r.d.Audit.Record(ctx, action, u.Username, p.name+" login", ip)
	code, err := randomToken(32)
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	s.mu.Lock()
	s.pruneLocked(s.r.d.Now())
	s.codes[code] = exchangeCode{token: tok, expires: s.r.d.Now().Add(exchangeTTL)}
	s.mu.Unlock()
	http.Redirect(w, req, "/#oidc_code="+code, http.StatusTemporaryRedirect)
}

// linkUser validates the token a link flow starts with: a session token,
// or a one-time WebSocket token (so the browser need not put its session
// token in a URL).
func (s *sso) linkUser(ctx context.Context, tok string) (ssoState, bool) {
	if p, ok := s.r.ConsumeWSToken(tok); ok && p.Kind != "apikey" {
		return ssoState{user: p.Username}, true
	}
	p, err := s.r.Authenticate(ctx, tok, false)
	if err != nil || p.Kind != "session" {
		return ssoState{}, false
	}
	return ssoState{user: p.Username, token: tok}, true
}

func (s *sso) linkStart(w http.ResponseWriter, req *http.Request) {
	if s.links == nil {
		httpx.WriteError(w, http.StatusServiceUnavailable, "Single sign-on is not available")
		return
	}
	tok := req.URL.Query().Get("token")
	if tok == "" {
		httpx.WriteError(w, http.StatusUnauthorized, "Token required")
		return
	}
	st, ok := s.linkUser(req.Context(), tok)
	if !ok {
		httpx.WriteError(w, http.StatusUnauthorized, "Invalid token")
		return
	}
	s.start(w, req, req.PathValue("provider"), "link", "/api/auth/social/{provider}/link/callback", st)
}

func (s *sso) linkCallback(w http.ResponseWriter, req *http.Request) {
	if s.links == nil {
		httpx.WriteError(w, http.StatusServiceUnavailable, "Single sign-on is not available")
		return
	}
	p, st, id, ok := s.callbackCommon(w, req, req.PathValue("provider"), "link", "Failed to link %p account")
	if !ok {
		return
	}
	ctx := req.Context()
	// The user who started the flow must still be signed in (and exist).
	if st.token != "" {
		if pr, err := s.r.Authenticate(ctx, st.token, false); err != nil || pr.Username != st.user {
			httpx.WriteError(w, http.StatusUnauthorized, "Invalid or expired token — please log in again")
			return
		}
	} else if _, err := s.r.d.Store.User(ctx, st.user); err != nil {
		httpx.WriteError(w, http.StatusUnauthorized, "Invalid or expired token — please log in again")
		return
	}
	err := s.links.SaveLink(ctx, Link{Username: st.user, Provider: p.key, Subject: id.subject, Email: id.email, Name: id.name,
		LinkedAt: s.r.d.Now().Unix()})
	if errors.Is(err, ErrExists) {
		httpx.WriteError(w, http.StatusConflict, fmt.Sprintf("This %s identity is already linked to another account", p.name))
		return
	}
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	label := id.email
	if label == "" {
		label = id.name
	}
	s.r.d.Audit.Record(ctx, "social_link", st.user, fmt.Sprintf("Linked %s (%s)", p.name, label), httpx.ClientIP(ctx))
	http.Redirect(w, req, "/profile?linked="+url.QueryEscape(p.key), http.StatusTemporaryRedirect)
}

// LinkedProvider is one entry of GET /api/auth/linked-providers.
type LinkedProvider struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	LinkedAt int64  `json:"linked_at"`
}

type linkedOut struct{ Body map[string]LinkedProvider }

func (s *sso) linkedProviders(ctx context.Context, _ *struct{}) (*linkedOut, error) {
	out := map[string]LinkedProvider{}
	if s.links == nil {
		return &linkedOut{Body: out}, nil
	}
	ls, err := s.links.Links(ctx, authz.Must(ctx).Username)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		name := l.Name
		if p, ok := socialPresets[l.Provider]; ok {
			name = p.name
		} else if l.Provider == "oidc" {
			name = strings.TrimSpace(s.r.d.Settings.String("oidcProviderName"))
			if name == "" {
				name = "SSO"
			}
		}
		out[l.Provider] = LinkedProvider{Email: l.Email, Name: name, LinkedAt: l.LinkedAt}
	}
	return &linkedOut{Body: out}, nil
}

type unlinkIn struct {
	Provider string `path:"provider"`
}

type ssoUnlinkOut struct {
	Body struct {
		Status   string `json:"status"`
		Provider string `json:"provider"`
	}
}

func (s *sso) unlink(ctx context.Context, in *unlinkIn) (*ssoUnlinkOut, error) {
	if s.links == nil {
		return nil, httpx.NotFound("Provider '%s' not linked", in.Provider)
	}
	p := authz.Must(ctx)
	gone, err := s.links.DeleteLink(ctx, p.Username, in.Provider)
	if err != nil {
		return nil, err
	}
	if !gone {
		return nil, httpx.NotFound("Provider '%s' not linked", in.Provider)
	}
	s.r.d.Audit.Record(ctx, "social_unlink", p.Username, "Unlinked "+in.Provider, httpx.ClientIP(ctx))
	out := &ssoUnlinkOut{}
	out.Body.Status, out.Body.Provider = "unlinked", in.Provider
	return out, nil
}

type ssoExchangeIn struct {
	Body struct {
		Code string `json:"code,omitempty"`
	}
}

type ssoExchangeOut struct {
	Body struct {
		Token string `json:"token"`
	}
}

func (s *sso) exchange(ctx context.Context, in *ssoExchangeIn) (*ssoExchangeOut, error) {
	if in.Body.Code == "" {
		return nil, httpx.Invalid("Missing code")
	}
	s.mu.Lock()
	c, ok := s.codes[in.Body.Code]
	delete(s.codes, in.Body.Code)
	s.mu.Unlock()
	if !ok {
		return nil, httpx.Unauthorized("Invalid or expired code")
	}
	if !s.r.d.Now().Before(c.expires) {
		return nil, httpx.Unauthorized("Code expired")
	}
	out := &ssoExchangeOut{}
	out.Body.Token = c.token
	return out, nil
}
