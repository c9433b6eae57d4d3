package httpx

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// OriginAllowed is the cross-site WebSocket hijacking check of the
// terminals (spec 20 §10.1, §19.5): the handshake must carry an Origin,
// and it must be one of the configured CORS origins or the request's own
// origin — scheme, host and port alike (a page served on another port of
// the same host is another origin). Behind a TLS-terminating proxy the
// scheme is the proxy's X-Forwarded-Proto, which a browser page cannot set
// on a WebSocket handshake.
func OriginAllowed(req *http.Request, corsOrigins []string) bool {
	o := req.Header.Get("Origin")
	if o == "" {
		return false
	}
	if slices.Contains(corsOrigins, o) {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") {
		return false
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	if p := req.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(p)), ",")
	}
	if !strings.EqualFold(u.Scheme, scheme) {
		return false
	}
	return strings.EqualFold(hostPort(u.Host, scheme), hostPort(req.Host, scheme))
}

// hostPort is host:port with the scheme's default port filled in.
func hostPort(h, scheme string) string {
	if _, _, err := net.SplitHostPort(h); err == nil {
		return h
	}
	port := "80"
	if scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(strings.Trim(h, "[]"), port)
}
