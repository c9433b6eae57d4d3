package instances

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

// ProbeTimeout bounds one connection test (spec 30 §3.2: 10 s).
const ProbeTimeout = 10 * time.Second

// TLSOptions are an instance's TLS settings: VerifySSL false accepts any
// certificate (self-signed XCP-ng, PiKVM, Vaultwarden...); CABundle is a
// PEM file of extra roots to trust.
type TLSOptions struct {
	VerifySSL bool
	CABundle  string
}

func (o TLSOptions) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if !o.VerifySSL {
		cfg.InsecureSkipVerify = true //nolint:gosec // the instance's verify_ssl=false, set by an admin
		return cfg, nil
	}
	if o.CABundle != "" {
		pem, err := os.ReadFile(o.CABundle)
		if err != nil {
			return nil, fmt.Errorf("ca_bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_bundle %s holds no PEM certificate", o.CABundle)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// checkCABundle validates a ca_bundle path an admin sets.
func checkCABundle(path string) error {
	if path == "" {
		return nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("ca_bundle %q cannot be read", path)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return fmt.Errorf("ca_bundle %q holds no PEM certificate", path)
	}
	return nil
}

// Probe sends GET url (no redirects, bounded body) and returns the status
// code, or an error whose text a user can act on.
func Probe(ctx context.Context, url string, o TLSOptions) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	cfg, err := o.config()
	if err != nil {
		return 0, err
	}
	tr := &http.Transport{Proxy: nil, TLSClientConfig: cfg, DisableKeepAlives: true,
		DialContext: (&net.Dialer{Timeout: ProbeTimeout}).DialContext, TLSHandshakeTimeout: ProbeTimeout,
		ResponseHeaderTimeout: ProbeTimeout, MaxResponseHeaderBytes: 64 << 10}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, errors.New("invalid URL")
	}
	req.Header.Set("User-Agent", "noba")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, describe(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// describe turns a transport error into a message without the URL.
func describe(err error) error {
	var ne net.Error
	var ce *tls.CertificateVerificationError
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("Connection refused") //nolint:staticcheck // user-facing message
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errors.New("Connection timed out") //nolint:staticcheck // user-facing message
	case errors.As(err, &ce), errors.As(err, &ue), errors.As(err, &he):
		return errors.New("TLS certificate not trusted: set verify_ssl to false or give a ca_bundle")
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return fmt.Errorf("Host not found: %s", de.Name) //nolint:staticcheck // user-facing message
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return errors.New(oe.Err.Error())
	}
	return errors.New("Connection failed") //nolint:staticcheck // user-facing message
}
