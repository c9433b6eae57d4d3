package instances_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/instances"
	"github.com/noba-go/noba/internal/server/servertest"
)

func do(t *testing.T, env *servertest.Env, method, path, role string, body any, want int) []byte {
	t.Helper()
	st, b := env.Do(method, path, env.Token(role), body)
	if st != want {
		t.Fatalf("%s %s as %s: %d %s, want %d", method, path, role, st, b, want)
	}
	return b
}

func obj(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func list(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return l
}

const (
	secretKey = "1-TRUENAS-API-KEY-very-secret"
	secretPW  = "pve-Passw0rd-secret"
)

func TestInstanceCRUD(t *testing.T) {
	env := servertest.New(t)
	base := "/api/integrations/instances"
	for _, tc := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{}, "Missing required field: id"},
		{map[string]any{"id": "a"}, "Missing required field: category"},
		{map[string]any{"id": "a", "category": "nas"}, "Missing required field: platform"},
		{map[string]any{"id": "a b", "category": "nas", "platform": "truenas"}, "id must be"},
		{map[string]any{"id": "a", "category": "nas", "platform": "truenas", "url": "ftp://x"}, "url must be an http"},
		{map[string]any{"id": "a", "category": "nas", "platform": "truenas", "tags": "nope"}, "tags must be a list"},
		{map[string]any{"id": "a", "category": "nas", "platform": "truenas", "colour": "red"}, "Invalid fields: colour"},
		{map[string]any{"id": "a", "category": "nas", "platform": "truenas", "ca_bundle": "/nonexistent.pem"}, "ca_bundle"},
	} {
		b := do(t, env, "POST", base, "admin", tc.body, http.StatusBadRequest)
		if !strings.Contains(string(b), tc.msg) {
			t.Errorf("%v: %s, want %q", tc.body, b, tc.msg)
		}
	}
	do(t, env, "POST", base, "operator", map[string]any{"id": "x", "category": "nas", "platform": "truenas"}, http.StatusForbidden)

	b := do(t, env, "POST", base, "admin", map[string]any{"id": "nas-1", "category": "nas", "platform": "truenas",
		"url": "http://192.0.2.10/", "auth_config": map[string]any{"api_key": secretKey, "username": "root"},
		"site": "home", "tags": []any{"storage", "primary"}}, http.StatusOK)
	if string(b) != `{"id":"nas-1","status":"created"}`+"\n" {
		t.Errorf("create: %s", b)
	}
	// a second instance of the same platform, side by side, with its own config
	do(t, env, "POST", base, "admin", map[string]any{"id": "nas-2", "category": "nas", "platform": "truenas",
		"url": "https://192.0.2.11", "auth_config": `{"api_key":"other-key-222"}`, "verify_ssl": false}, http.StatusOK)
	do(t, env, "POST", base, "admin", map[string]any{"id": "pve", "category": "hypervisor", "platform": "proxmox",
		"auth_config": map[string]any{"user": "root@pam", "password": secretPW, "token_name": "noba"}}, http.StatusOK)
	b = do(t, env, "POST", base, "admin", map[string]any{"id": "nas-1", "category": "nas", "platform": "truenas"}, http.StatusConflict)
	if !strings.Contains(string(b), "Instance already exists") || strings.Contains(string(b), "UNIQUE") {
		t.Errorf("duplicate: %s", b)
	}

	// list: strings as stored, masked for admins, redacted for others
	all := list(t, do(t, env, "GET", base, "admin", nil, http.StatusOK))
	if len(all) != 3 || all[0]["id"] != "nas-1" || all[1]["id"] != "nas-2" || all[2]["id"] != "pve" {
		t.Fatalf("list: %v", all)
	}
	if all[0]["auth_config"] != `{"api_key":"***","username":"root"}` || all[0]["tags"] != `["storage","primary"]` ||
		all[0]["url"] != "http://192.0.2.10" || all[0]["enabled"] != float64(1) || all[1]["verify_ssl"] != float64(0) {
		t.Errorf("admin row: %v / %v", all[0], all[1])
	}
	if all[2]["auth_config"] != `{"password":"***","token_name":"noba","user":"root@pam"}` {
		t.Errorf("pve row: %v", all[2]["auth_config"])
	}
	for _, role := range []string{"viewer", "operator"} {
		rows := list(t, do(t, env, "GET", base, role, nil, http.StatusOK))
		if rows[0]["auth_config"] != `{"redacted":true}` {
			t.Errorf("%s sees %v", role, rows[0]["auth_config"])
		}
	}
	if rows := list(t, do(t, env, "GET", base+"?category=nas&site=home", "viewer", nil, http.StatusOK)); len(rows) != 1 || rows[0]["id"] != "nas-1" {
		t.Errorf("filter: %v", rows)
	}

	// get: parsed
	one := obj(t, do(t, env, "GET", base+"/nas-1", "admin", nil, http.StatusOK))
	if !reflect.DeepEqual(one["auth_config"], map[string]any{"api_key": "***", "username": "root"}) ||
		!reflect.DeepEqual(one["tags"], []any{"storage", "primary"}) || one["site"] != "home" || one["health_status"] != "unknown" {
		t.Errorf("get: %v", one)
	}
	if v := obj(t, do(t, env, "GET", base+"/nas-1", "viewer", nil, http.StatusOK)); !reflect.DeepEqual(v["auth_config"], map[string]any{"redacted": true}) {
		t.Errorf("viewer get: %v", v["auth_config"])
	}
	b = do(t, env, "GET", base+"/nope", "viewer", nil, http.StatusNotFound)
	if !strings.Contains(string(b), "Instance not found: nope") {
		t.Errorf("404: %s", b)
	}

	// PATCH: the masked value sent back keeps the secret; new values rotate it
	do(t, env, "PATCH", base+"/nope", "admin", map[string]any{"url": "http://x"}, http.StatusNotFound)
	do(t, env, "PATCH", base+"/nas-1", "operator", map[string]any{"url": "http://x"}, http.StatusForbidden)
	b = do(t, env, "PATCH", base+"/nas-1", "admin", map[string]any{"url": "http://192.0.2.20", "enabled": false,
		"auth_config": map[string]any{"api_key": "***", "username": "admin"}, "tags": []any{"x"}, "site": ""}, http.StatusOK)
	if string(b) != `{"id":"nas-1","status":"updated"}`+"\n" {
		t.Errorf("patch: %s", b)
	}
	b = do(t, env, "PATCH", base+"/nas-1", "admin", map[string]any{"name": "x", "verify_ssl": "maybe"}, http.StatusBadRequest)
	if !strings.Contains(string(b), "Invalid fields: name") {
		t.Errorf("bad patch: %s", b)
	}
	one = obj(t, do(t, env, "GET", base+"/nas-1", "admin", nil, http.StatusOK))
	if one["url"] != "http://192.0.2.20" || one["enabled"] != float64(0) || one["site"] != nil ||
		!reflect.DeepEqual(one["auth_config"], map[string]any{"api_key": "***", "username": "admin"}) {
		t.Errorf("after patch: %v", one)
	}
	// the stored key survived the masked round trip: it is what test-connection... is not shown; check via a
	// rotation: a new value replaces it, null removes it
	do(t, env, "PATCH", base+"/pve", "admin", map[string]any{"auth_config": map[string]any{"password": nil}, "category": "hypervisor",
		"platform": "xcpng", "verify_ssl": false}, http.StatusOK)
	one = obj(t, do(t, env, "GET", base+"/pve", "admin", nil, http.StatusOK))
	if !reflect.DeepEqual(one["auth_config"], map[string]any{"token_name": "noba", "user": "root@pam"}) || one["platform"] != "xcpng" || one["verify_ssl"] != float64(0) {
		t.Errorf("rotate: %v", one)
	}

	// delete
	do(t, env, "DELETE", base+"/pve", "operator", nil, http.StatusForbidden)
	if b := do(t, env, "DELETE", base+"/pve", "admin", nil, http.StatusOK); string(b) != `{"id":"pve","status":"deleted"}`+"\n" {
		t.Errorf("delete: %s", b)
	}
	do(t, env, "DELETE", base+"/pve", "admin", nil, http.StatusNotFound)

	_, audit := env.Do("GET", "/api/audit?limit=100", env.Token("admin"), nil)
	for _, a := range []string{"integration_create", "integration_update", "integration_delete"} {
		if !strings.Contains(string(audit), a) {
			t.Errorf("audit lacks %s", a)
		}
	}
	if strings.Contains(string(audit), secretKey) {
		t.Error("audit carries a secret")
	}
}

func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "xcp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestConnectionAndHealth(t *testing.T) {
	env := servertest.New(t)
	tc := "/api/integrations/instances/test-connection"
	b := do(t, env, "POST", tc, "operator", map[string]any{"platform": "truenas"}, http.StatusOK)
	if string(b) != `{"success":false,"error":"No URL provided","platform":"truenas"}`+"\n" {
		t.Errorf("no url: %s", b)
	}
	do(t, env, "POST", tc, "viewer", map[string]any{"url": "http://127.0.0.1:1"}, http.StatusForbidden)

	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusUnauthorized) // an API without credentials: the service answers
	}))
	defer up.Close()
	b = do(t, env, "POST", tc, "operator", map[string]any{"url": up.URL, "platform": "truenas"}, http.StatusOK)
	if m := obj(t, b); m["success"] != true || m["status_code"] != float64(401) || m["platform"] != "truenas" {
		t.Errorf("up: %s", b)
	}
	if m := obj(t, do(t, env, "POST", tc, "operator", map[string]any{"url": up.URL + "/down"}, http.StatusOK)); m["success"] != false || m["status_code"] != float64(503) {
		t.Errorf("503: %v", m)
	}
	if m := obj(t, do(t, env, "POST", tc, "operator", map[string]any{"url": up.URL + "/redirect"}, http.StatusOK)); m["status_code"] != float64(302) {
		t.Errorf("redirect followed: %v", m)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	if m := obj(t, do(t, env, "POST", tc, "operator", map[string]any{"url": closed}, http.StatusOK)); m["success"] != false || m["error"] != "Connection refused" {
		t.Errorf("refused: %v", m)
	}

	// a self-signed HTTPS service (XCP-ng, PiKVM, Vaultwarden): untrusted until verify_ssl=false or its CA is given
	cert, certPEM := selfSigned(t)
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	if m := obj(t, do(t, env, "POST", tc, "operator", map[string]any{"url": tlsSrv.URL}, http.StatusOK)); m["success"] != false || !strings.Contains(m["error"].(string), "verify_ssl") {
		t.Errorf("self-signed verified: %v", m)
	}
	if m := obj(t, do(t, env, "POST", tc, "operator", map[string]any{"url": tlsSrv.URL, "verify_ssl": "false"}, http.StatusOK)); m["success"] != true {
		t.Errorf("verify_ssl false: %v", m)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	// several instances of one platform, each with its own TLS settings and health
	base := "/api/integrations/instances"
	do(t, env, "POST", base, "admin", map[string]any{"id": "xcp-a", "category": "hypervisor", "platform": "xcpng", "url": tlsSrv.URL, "verify_ssl": false}, http.StatusOK)
	do(t, env, "POST", base, "admin", map[string]any{"id": "xcp-b", "category": "hypervisor", "platform": "xcpng", "url": tlsSrv.URL, "ca_bundle": caFile}, http.StatusOK)
	do(t, env, "POST", base, "admin", map[string]any{"id": "xcp-c", "category": "hypervisor", "platform": "xcpng", "url": tlsSrv.URL}, http.StatusOK)
	do(t, env, "POST", base, "admin", map[string]any{"id": "xcp-d", "category": "hypervisor", "platform": "xcpng", "url": closed}, http.StatusOK)
	for id, want := range map[string]bool{"xcp-a": true, "xcp-b": true, "xcp-c": false, "xcp-d": false} {
		m := obj(t, do(t, env, "POST", tc, "operator", map[string]any{"id": id}, http.StatusOK))
		if m["success"] != want || m["platform"] != "xcpng" {
			t.Errorf("%s: %v, want success %v", id, m, want)
		}
	}
	do(t, env, "POST", tc, "operator", map[string]any{"id": "nope"}, http.StatusNotFound)
	health := map[string]string{}
	for _, r := range list(t, do(t, env, "GET", base+"?category=hypervisor", "viewer", nil, http.StatusOK)) {
		health[r["id"].(string)] = r["health_status"].(string)
		if r["health_status"] == "online" && r["last_seen"] == nil {
			t.Errorf("%v: online without last_seen", r["id"])
		}
	}
	if !reflect.DeepEqual(health, map[string]string{"xcp-a": "online", "xcp-b": "online", "xcp-c": "offline", "xcp-d": "offline"}) {
		t.Errorf("health: %v", health)
	}
}

func TestCatalogAndGroups(t *testing.T) {
	env := servertest.New(t)
	var cats []string
	_ = json.Unmarshal(do(t, env, "GET", "/api/integrations/catalog/categories", "viewer", nil, http.StatusOK), &cats)
	if len(cats) != 29 || cats[0] != "nas" || cats[1] != "hypervisor" || cats[28] != "file_sync" {
		t.Errorf("categories: %v", cats)
	}
	b := do(t, env, "GET", "/api/integrations/catalog/categories/dns/platforms", "viewer", nil, http.StatusOK)
	if string(b) != `["adguard","bind9","coredns","pihole","technitium","unbound"]`+"\n" {
		t.Errorf("dns: %s", b)
	}
	b = do(t, env, "GET", "/api/integrations/catalog/categories/toasters/platforms", "viewer", nil, http.StatusNotFound)
	if !strings.Contains(string(b), "Unknown category: toasters") {
		t.Errorf("unknown: %s", b)
	}

	do(t, env, "POST", "/api/integrations/instances", "admin", map[string]any{"id": "dns-1", "category": "dns", "platform": "pihole",
		"auth_config": map[string]any{"password": "pihole-Secret-1"}}, http.StatusOK)
	do(t, env, "POST", "/api/integrations/instances", "admin", map[string]any{"id": "dns-2", "category": "dns", "platform": "pihole"}, http.StatusOK)
	g := "/api/integrations/groups/home%20dns/members"
	do(t, env, "POST", g, "operator", map[string]any{"instance_id": "dns-1"}, http.StatusForbidden)
	b = do(t, env, "POST", g, "admin", map[string]any{}, http.StatusBadRequest)
	if !strings.Contains(string(b), "Missing instance_id") {
		t.Errorf("missing: %s", b)
	}
	do(t, env, "POST", g, "admin", map[string]any{"instance_id": "ghost"}, http.StatusNotFound)
	for i := 0; i < 2; i++ { // idempotent
		b = do(t, env, "POST", g, "admin", map[string]any{"instance_id": "dns-1"}, http.StatusOK)
	}
	if string(b) != `{"group":"home dns","instance_id":"dns-1","status":"added"}`+"\n" {
		t.Errorf("add: %s", b)
	}
	do(t, env, "POST", g, "admin", map[string]any{"instance_id": "dns-2"}, http.StatusOK)
	do(t, env, "POST", "/api/integrations/groups/edge/members", "admin", map[string]any{"instance_id": "dns-2"}, http.StatusOK)
	if b := do(t, env, "GET", "/api/integrations/groups", "viewer", nil, http.StatusOK); string(b) != `["edge","home dns"]`+"\n" {
		t.Errorf("groups: %s", b)
	}
	mem := list(t, do(t, env, "GET", g, "viewer", nil, http.StatusOK))
	if len(mem) != 2 || mem[0]["id"] != "dns-1" || mem[0]["auth_config"] != `{"redacted":true}` {
		t.Errorf("members (viewer): %v", mem)
	}
	mem = list(t, do(t, env, "GET", g, "admin", nil, http.StatusOK))
	if mem[0]["auth_config"] != `{"password":"***"}` {
		t.Errorf("members (admin): %v", mem[0]["auth_config"])
	}
	do(t, env, "DELETE", g+"/dns-1", "operator", nil, http.StatusForbidden)
	for i := 0; i < 2; i++ {
		b = do(t, env, "DELETE", g+"/dns-1", "admin", nil, http.StatusOK)
	}
	if string(b) != `{"group":"home dns","instance_id":"dns-1","status":"removed"}`+"\n" {
		t.Errorf("remove: %s", b)
	}
	// deleting an instance drops its memberships (no FK error)
	do(t, env, "DELETE", "/api/integrations/instances/dns-2", "admin", nil, http.StatusOK)
	if b := do(t, env, "GET", "/api/integrations/groups", "viewer", nil, http.StatusOK); string(b) != `[]`+"\n" {
		t.Errorf("groups after delete: %s", b)
	}
}

// TestNoSecretInAnyResponse stores credentials in instances and reads every
// GET route of router 10 as each role: no answer carries a secret.
func TestNoSecretInAnyResponse(t *testing.T) {
	env := servertest.New(t)
	cfg := map[string]any{"api_key": "ak-Secret-111", "password": "pw-Secret-222", "token": "tk-Secret-333",
		"token_value": "tv-Secret-444", "apikey": "ak2-Secret-555", "nested": map[string]any{"client_secret": "cs-Secret-666"}}
	secrets := instances.Secrets(cfg)
	if len(secrets) != 6 {
		t.Fatalf("Secrets found %v", secrets)
	}
	do(t, env, "POST", "/api/integrations/instances", "admin", map[string]any{"id": "s1", "category": "nas", "platform": "truenas", "auth_config": cfg}, http.StatusOK)
	do(t, env, "POST", "/api/integrations/groups/g/members", "admin", map[string]any{"instance_id": "s1"}, http.StatusOK)
	do(t, env, "PATCH", "/api/integrations/instances/s1", "admin", map[string]any{"auth_config": map[string]any{"password": "***", "api_key": "***"}}, http.StatusOK)
	for _, role := range []string{"viewer", "operator", "admin"} {
		for _, p := range []string{"/api/integrations/instances", "/api/integrations/instances/s1", "/api/integrations/groups",
			"/api/integrations/groups/g/members", "/api/integrations/catalog/categories"} {
			_, b := env.Do("GET", p, env.Token(role), nil)
			for _, s := range secrets {
				if strings.Contains(string(b), s) {
					t.Errorf("%s GET %s leaks %s: %s", role, p, s, b)
				}
			}
		}
	}
	// the masked round trip kept the stored secrets
	if got := instances.MergeConfig(cfg, map[string]any{"password": "***", "api_key": "***"}); !reflect.DeepEqual(got, cfg) {
		t.Errorf("MergeConfig changed the stored secrets: %v", got)
	}
}

func TestMaskConfig(t *testing.T) {
	got := instances.MaskConfig(map[string]any{"username": "u", "password": "p", "token_name": "n", "tokenValue": "v",
		"api_key": "", "port": float64(8006), "extra": map[string]any{"privateKey": "k", "region": "eu"}})
	want := map[string]any{"username": "u", "password": "***", "token_name": "n", "tokenValue": "***", "api_key": "",
		"port": float64(8006), "extra": map[string]any{"privateKey": "***", "region": "eu"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}
