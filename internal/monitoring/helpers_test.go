package monitoring_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/jobs"
	"github.com/noba-go/noba/internal/monitoring"
	"github.com/noba-go/noba/internal/server/servertest"
)

// selfSigned returns a certificate for 127.0.0.1 and localhost valid until notAfter.
func selfSigned(t *testing.T, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "noba-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serveTLS starts an HTTPS server on loopback with cert and returns its URL.
func serveTLS(t *testing.T, cert tls.Certificate, h http.Handler) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String()
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// dnsServer answers A queries for names in records (fully qualified,
// lower case) over UDP on loopback; other names get NXDOMAIN.
func dnsServer(t *testing.T, records map[string]net.IP) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], records); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func dnsAnswer(q []byte, records map[string]net.IP) []byte {
	if len(q) < 12 {
		return nil
	}
	// Question name.
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qEnd := i + 5
	qtype := binary.BigEndian.Uint16(q[i+1:])
	name := strings.ToLower(strings.Join(labels, ".")) + "."
	ip, found := records[name]
	resp := append([]byte{}, q[:qEnd]...)
	resp[2] = 0x81 // QR, RD
	resp[3] = 0x80 // RA
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint16(resp[8:], 0)
	binary.BigEndian.PutUint16(resp[10:], 0)
	if !found {
		resp[3] |= 3 // NXDOMAIN
		return resp
	}
	if qtype != 1 {
		return resp // no data for other types
	}
	binary.BigEndian.PutUint16(resp[6:], 1)
	resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
	return append(resp, ip.To4()...)
}

// runJob runs one tick of the named background job of the server.
func runJob(t *testing.T, env *servertest.Env, name string) {
	t.Helper()
	for _, j := range env.Server.Jobs.Jobs() {
		if j.Name() == name {
			tk, ok := jobs.Unwrap(j).(*jobs.Ticker)
			if !ok {
				t.Fatalf("job %s is not a ticker", name)
			}
			if err := tk.Once(context.Background()); err != nil {
				t.Fatalf("job %s: %v", name, err)
			}
			return
		}
	}
	t.Fatalf("job %s not registered", name)
}

// monitors lists the monitors by name.
func monitors(t *testing.T, env *servertest.Env, tok string) map[string]monitoring.EndpointMonitor {
	t.Helper()
	var list []monitoring.EndpointMonitor
	if st := env.JSON(http.MethodGet, "/api/endpoints?history=20", tok, nil, &list); st != http.StatusOK {
		t.Fatalf("list endpoints: %d", st)
	}
	out := map[string]monitoring.EndpointMonitor{}
	for _, m := range list {
		out[m.Name] = m
	}
	return out
}

func createMonitor(t testing.TB, env *servertest.Env, body map[string]any) int64 {
	t.Helper()
	var out struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	st, b := env.Do(http.MethodPost, "/api/endpoints", env.Token("admin"), body)
	if st != http.StatusOK {
		t.Fatalf("create monitor %v: %d %s", body, st, b)
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ID == 0 || out.Status != "ok" {
		t.Fatalf("create monitor: %s", b)
	}
	return out.ID
}

func checkNow(t *testing.T, env *servertest.Env, id int64) monitoring.CheckResult {
	t.Helper()
	var res monitoring.CheckResult
	st, b := env.Do(http.MethodPost, fmt.Sprintf("/api/endpoints/%d/check", id), env.Token("operator"), nil)
	if st != http.StatusOK {
		t.Fatalf("check %d: %d %s", id, st, b)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("check %d: %s", id, b)
	}
	return res
}

func eventKinds(m monitoring.EndpointMonitor) []string {
	var k []string
	for _, e := range m.Events {
		k = append(k, e.Kind+"/"+e.Severity)
	}
	return k
}

// jsonUnmarshalLoose decodes a list that is either the body itself or the
// first list inside a JSON object.
func jsonUnmarshalLoose(b []byte, out *[]map[string]any) error {
	if err := json.Unmarshal(b, out); err == nil {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	for _, v := range obj {
		if json.Unmarshal(v, out) == nil {
			return nil
		}
	}
	return fmt.Errorf("no list in %s", b)
}
