package certexpiry_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/certexpiry"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

// selfSigned makes a certificate for 127.0.0.1 expiring at notAfter.
func selfSigned(t *testing.T, notAfter time.Time) (tls.Certificate, *x509.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Homelab Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, c
}

func tlsServer(t *testing.T, notAfter time.Time) (*httptest.Server, *x509.Certificate) {
	cert, parsed := selfSigned(t, notAfter)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, parsed
}

func TestItems(t *testing.T) {
	notAfter := time.Now().Add(30*24*time.Hour + time.Hour).Truncate(time.Second)
	srv, cert := tlsServer(t, notAfter)
	expired, _ := tlsServer(t, time.Now().Add(-49*time.Hour))
	host := strings.TrimPrefix(srv.URL, "https://")
	closed := strings.TrimPrefix(providertest.ClosedURL(t), "http://")

	p := certexpiry.New(nil)
	st := provider.Settings{"certHosts": host + ", " + closed + "," + strings.TrimPrefix(expired.URL, "https://") + ",," + host}
	got := providertest.Block(t, p, st, 4500*time.Millisecond)
	items, ok := got.([]any)
	if !ok || len(items) != 3 {
		t.Fatalf("items: %v", got)
	}
	providertest.Equal(t, "valid host", items[0], map[string]any{"host": host, "expires": notAfter.UTC().Format(time.RFC3339),
		"days": 30, "issuer": "Homelab Test CA", "verified": false})
	bad := items[1].(map[string]any)
	if bad["host"] != closed || bad["days"] != nil || bad["error"] != "connection refused" || len(bad) != 3 {
		t.Errorf("closed port item: %v", bad)
	}
	if exp := items[2].(map[string]any); exp["days"] != float64(-3) {
		t.Errorf("expired certificate days: %v", exp)
	}

	// Trusted roots make "verified" true; a cached result is served until its TTL.
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	p2 := certexpiry.New(nil)
	p2.Roots = roots
	one := provider.Settings{"certHosts": host}
	providertest.Equal(t, "verified", providertest.Block(t, p2, one, 4500*time.Millisecond).([]any)[0].(map[string]any)["verified"], true)
	srv.Close()
	if it := providertest.Block(t, p2, one, 4500*time.Millisecond).([]any)[0].(map[string]any); it["days"] != float64(30) {
		t.Errorf("cached item after the server went away: %v", it)
	}
	p3 := certexpiry.New(nil)
	if it := providertest.Block(t, p3, one, 4500*time.Millisecond).([]any)[0].(map[string]any); it["error"] == nil {
		t.Errorf("uncached item of a stopped server: %v", it)
	}
}

// TestSlowHost: a host that accepts TCP but never answers the handshake
// gives an error item within the fan-out's wait, not a timeout block.
func TestSlowHost(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	p := certexpiry.New(nil)
	start := time.Now()
	got := providertest.Block(t, p, provider.Settings{"certHosts": l.Addr().String()}, time.Second)
	providertest.Equal(t, "slow host", got, []any{map[string]any{"host": l.Addr().String(), "error": "Timed out", "days": nil}})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestNotConfigured(t *testing.T) {
	providertest.Equal(t, "unconfigured", providertest.Block(t, certexpiry.New(nil), provider.Settings{"certHosts": " , "}, time.Second), []any{})
}
