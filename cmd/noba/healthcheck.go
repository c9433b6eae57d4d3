package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/noba-go/noba/internal/config"
)

// healthcheck asks the server that the same environment configures
// (NOBA_LISTEN / HOST / PORT, SSL_CERT) for GET /api/health on loopback and
// fails unless it answers 200. It is the image's HEALTHCHECK: a scratch image
// has no curl or wget.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	url := healthURL(cfg)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health request: %w", err)
	}
	tr := &http.Transport{Proxy: nil}
	if cfg.TLS() {
		// The certificate names the public host, not the loopback address
		// asked here; this only checks that the local server answers.
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// healthURL is /api/health on the listen address, with a wildcard host
// (0.0.0.0, ::, empty) replaced by loopback.
func healthURL(cfg config.Config) string {
	host, port, _ := net.SplitHostPort(cfg.Listen) // FromEnv validated it
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	scheme := "http"
	if cfg.TLS() {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/api/health"
}
