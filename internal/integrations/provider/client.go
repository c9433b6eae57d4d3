package provider

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultMaxBody bounds every response body (a larger answer is an error).
const DefaultMaxBody = 4 << 20

// Client is the HTTP client of the providers: redirects are not followed
// (credentials in custom headers would follow them), bodies are bounded,
// and errors never carry a URL's query (v5 Pi-hole puts its token there).
type Client struct {
	secure, insecure *http.Client
	// UserAgent is sent with every request.
	UserAgent string
}

// NewClient builds a client. Requests are bounded by their context.
func NewClient() *Client {
	mk := func(insecure bool) *http.Client {
		tr := &http.Transport{
			Proxy:                  nil,
			DialContext:            (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:           32,
			MaxIdleConnsPerHost:    2,
			IdleConnTimeout:        60 * time.Second,
			TLSHandshakeTimeout:    3 * time.Second,
			ResponseHeaderTimeout:  10 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		}
		if insecure {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // opt-in per integration (…VerifySsl=false)
		}
		return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	return &Client{secure: mk(false), insecure: mk(true), UserAgent: "noba"}
}

// Request is one call to a product's API.
type Request struct {
	Method string // default GET
	URL    string
	Header http.Header
	// JSON is encoded as the request body when non-nil.
	JSON any
	// Body is sent as is when non-nil (its Content-Type set in Header).
	Body []byte
	// Form is sent as an application/x-www-form-urlencoded body when non-nil.
	Form url.Values
	// Insecure skips TLS verification (the integration's VerifySsl=false).
	Insecure bool
	// MaxBody bounds the response body (default DefaultMaxBody).
	MaxBody int64
}

// Do sends r and returns the body of a 2xx answer. Other answers are a
// *StatusError (401/403 match ErrUnauthorized).
func (c *Client) Do(ctx context.Context, r Request) ([]byte, error) {
	data, _, err := c.Exchange(ctx, r)
	return data, err
}

// Exchange is Do that also returns the answer's headers (cookies).
func (c *Client) Exchange(ctx context.Context, r Request) ([]byte, http.Header, error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.JSON != nil {
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	} else if r.Form != nil {
		body = strings.NewReader(r.Form.Encode())
	} else if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: bad URL", ErrUnauthorized)
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if r.JSON != nil {
		req.Header.Set("Content-Type", "application/json")
	} else if r.Form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", c.UserAgent)
	hc := c.secure
	if r.Insecure {
		hc = c.insecure
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, nil, fmt.Errorf("%s %s: %w", method, Redact(r.URL), ue.Err)
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	max := r.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read: %w", method, Redact(r.URL), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, fmt.Errorf("%s %s: %w", method, Redact(r.URL), &StatusError{Code: resp.StatusCode, Header: resp.Header,
			Body: data[:min(len(data), 4<<10)]})
	}
	if int64(len(data)) > max {
		return nil, nil, fmt.Errorf("%s %s: response larger than %d bytes", method, Redact(r.URL), max)
	}
	return data, resp.Header, nil
}

// JSON sends r and decodes the JSON answer into out.
func (c *Client) JSON(ctx context.Context, r Request, out any) error {
	data, err := c.Do(ctx, r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decode: %w", Redact(r.URL), err)
	}
	return nil
}

// BaseURL normalises a configured URL: "http://" is added when it has no
// scheme, the trailing "/" is removed. A URL that is not http(s) with a
// host is a configuration error.
func BaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("%w: no URL", ErrUnauthorized)
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: invalid URL", ErrUnauthorized)
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return strings.TrimRight(u.String(), "/"), nil
}

// Redact drops the query and user info of a URL (for errors and logs).
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid URL>"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}
