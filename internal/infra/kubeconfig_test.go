package infra_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/runcmd"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// clientCA issues client certificates the fake API server trusts.
type clientCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newClientCA(t *testing.T) clientCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-cluster-ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return clientCA{cert: c, key: key}
}

// issue returns a client certificate and key (PEM) for user cn.
func (ca clientCA) issue(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn, Organization: []string{"system:masters"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// The Kubernetes routes read a kubeconfig when no k8sUrl/k8sToken is set:
// its current context's server, CA (inline data or a file relative to the
// kubeconfig), and user — a client certificate (inline), a bearer token
// or a tokenFile — against a TLS fake of the API server that
// authenticates client certificates like kube-apiserver does. Credential
// plugins and broken files answer a 400 a user can act on.
func TestKubernetesKubeconfig(t *testing.T) {
	ca := newClientCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	fake := &k8sFake{scaled: map[string]int{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A verified client certificate of user "noba" authenticates the request.
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && r.TLS.PeerCertificates[0].Subject.CommonName == "noba" {
			r.Header.Set("Authorization", "Bearer k8s-token")
		}
		fake.ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	serverCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), serverCA, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("k8s-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM := ca.issue(t, "noba")
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	kubeconfig := func(current string) string {
		return `apiVersion: v1
kind: Config
current-context: ` + current + `
clusters:
- name: home
  cluster:
    server: ` + srv.URL + `
    certificate-authority-data: ` + b64(serverCA) + `
- name: home-file-ca
  cluster:
    server: ` + srv.URL + `/
    certificate-authority: ca.crt
- name: home-unverified
  cluster:
    server: ` + srv.URL + `
contexts:
- name: cert
  context: {cluster: home, user: noba-cert}
- name: token-file
  context: {cluster: home-file-ca, user: noba-token-file}
- name: wrong-token
  context: {cluster: home, user: wrong}
- name: no-ca
  context: {cluster: home-unverified, user: noba-cert}
- name: plugin
  context: {cluster: home, user: oidc}
users:
- name: noba-cert
  user:
    client-certificate-data: ` + b64(certPEM) + `
    client-key-data: ` + b64(keyPEM) + `
- name: noba-token-file
  user:
    tokenFile: token
- name: wrong
  user:
    token: not-the-token
- name: oidc
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubelogin
`
	}
	path := filepath.Join(dir, "config")
	e := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithInfraRunner(runcmd.NewRecorded(nil)),
		server.WithKubeconfig(filepath.Join(dir, "missing") + string(os.PathListSeparator) + path)}})
	viewer, op := e.Token("viewer"), e.Token("operator")
	write := func(current string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(kubeconfig(current)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, current := range []string{"cert", "token-file"} {
		write(current)
		var ns []map[string]any
		if st := e.JSON(http.MethodGet, "/api/k8s/namespaces", viewer, nil, &ns); st != 200 || len(ns) != 2 || ns[1]["name"] != "media" {
			t.Fatalf("%s: namespaces %d %v", current, st, ns)
		}
	}
	write("cert")
	var sc map[string]any
	st := e.JSON(http.MethodPost, "/api/k8s/deployments/default/web/scale", op, map[string]any{"replicas": 4}, &sc)
	fake.mu.Lock()
	scaled := fake.scaled["default/web"]
	fake.mu.Unlock()
	if st != 200 || scaled != 4 {
		t.Fatalf("scale through the kubeconfig: %d %v", st, sc)
	}
	// Rejected credentials and an untrusted server certificate are API errors.
	for _, current := range []string{"wrong-token", "no-ca"} {
		write(current)
		if st, b := e.Do(http.MethodGet, "/api/k8s/namespaces", viewer, nil); st != 502 || !strings.Contains(string(b), "K8s API error") {
			t.Fatalf("%s: %d %s", current, st, b)
		}
	}
	for current, want := range map[string]string{"plugin": "credential plugins are not supported", "ghost": `current context \"ghost\" not found`} {
		write(current)
		if st, b := e.Do(http.MethodGet, "/api/k8s/namespaces", viewer, nil); st != 400 || !strings.Contains(string(b), want) ||
			strings.Contains(string(b), b64(keyPEM)) {
			t.Fatalf("%s: %d %s", current, st, b)
		}
	}
	// Settings take precedence over the kubeconfig.
	if _, err := e.Server.Settings.Update(map[string]any{"k8sUrl": srv.URL, "k8sToken": "k8s-token", "k8sVerifySsl": false}); err != nil {
		t.Fatal(err)
	}
	if st := e.JSON(http.MethodGet, "/api/k8s/namespaces", viewer, nil, nil); st != 200 {
		t.Fatalf("settings over a broken kubeconfig: %d", st)
	}
}
