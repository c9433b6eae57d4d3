package instances

import (
	"net"
	"net/http"
	"time"
)

// HTTPClient is a client for server-side calls to an instance's API (the
// healing room's instance actions): its TLS settings, no proxy, no
// redirects, timeout bounding every request.
func (o TLSOptions) HTTPClient(timeout time.Duration) (*http.Client, error) {
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{Proxy: nil, TLSClientConfig: cfg, DialContext: (&net.Dialer{Timeout: timeout}).DialContext,
		TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout, MaxResponseHeaderBytes: 64 << 10, IdleConnTimeout: 30 * time.Second}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, nil
}
