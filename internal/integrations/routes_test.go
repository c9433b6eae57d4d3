package integrations_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

// configure writes settings through the API, as an admin would.
func configure(t *testing.T, env *servertest.Env, kv map[string]any) {
	t.Helper()
	if st, b := env.Do(http.MethodPost, "/api/settings", env.Token("admin"), kv); st != http.StatusOK {
		t.Fatalf("POST /api/settings: %d %s", st, b)
	}
}

func wantStatus(t *testing.T, env *servertest.Env, method, path, role string, body any, want int) []byte {
	t.Helper()
	st, b := env.Do(method, path, env.Token(role), body)
	if st != want {
		t.Fatalf("%s %s as %s: %d %s, want %d", method, path, role, st, b, want)
	}
	return b
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func auditHas(t *testing.T, env *servertest.Env, action, details string) {
	t.Helper()
	_, b := env.Do(http.MethodGet, "/api/audit?limit=200", env.Token("admin"), nil)
	if !strings.Contains(string(b), `"`+action+`"`) || !strings.Contains(string(b), details) {
		t.Errorf("audit lacks %s %q: %s", action, details, b)
	}
}

// fakeHass speaks the Home Assistant REST API: /api/states, /api/services,
// POST /api/services/<domain>/<service>, with a long-lived token.
type fakeHass struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeHass) handler(token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"message":"Invalid access token or password"}`)
			return
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/states":
			_, _ = io.WriteString(w, `[
 {"entity_id":"light.kitchen","state":"on","attributes":{"friendly_name":"Kitchen","brightness":200,"color_temp":370,"rgb_color":[255,200,100],"icon":"mdi:lamp"}},
 {"entity_id":"sensor.temp","state":"21.5","attributes":{"unit_of_measurement":"°C","device_class":"temperature","battery_level":88}},
 {"entity_id":"switch.fan","state":"off","attributes":{}},
 {"entity_id":"scene.movie","state":"scening","attributes":{"friendly_name":"Movie"}}]`)
		case r.Method == http.MethodGet && r.URL.Path == "/api/services":
			_, _ = io.WriteString(w, `[{"domain":"light","services":{"turn_on":{"name":"Turn on","description":"Turn on one or more lights and adjust their properties, even when they are turned on already. This text is long."},"toggle":{"name":"Toggle","description":"Toggles"}}},
 {"domain":"scene","services":{"turn_on":{"name":"Activate","description":"Activate a scene"}}}]`)
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/services/"):
			b, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.calls = append(f.calls, strings.TrimPrefix(r.URL.Path, "/api/services/")+" "+string(b))
			f.mu.Unlock()
			if strings.HasSuffix(r.URL.Path, "/broken") {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, `[]`)
		default:
			http.NotFound(w, r)
		}
	})
}

func TestHomeAssistantRoutes(t *testing.T) {
	env := servertest.New(t)
	const token = "hass-long-lived-token-XYZ"
	fake := &fakeHass{}
	srv := httptest.NewServer(fake.handler(token))
	defer srv.Close()

	// not configured: 400 before anything else
	wantStatus(t, env, http.MethodGet, "/api/hass/entities", "viewer", nil, http.StatusBadRequest)
	configure(t, env, map[string]any{"hassUrl": srv.URL, "hassToken": token})

	b := wantStatus(t, env, http.MethodGet, "/api/hass/entities", "viewer", nil, http.StatusOK)
	m := decode(t, b)
	if m["total"] != float64(4) || len(m["entities"].([]any)) != 4 {
		t.Fatalf("entities: %s", b)
	}
	light := m["entities"].([]any)[0].(map[string]any)
	if light["name"] != "Kitchen" || light["domain"] != "light" || light["brightness"] != float64(200) || light["icon"] != "mdi:lamp" {
		t.Errorf("light: %v", light)
	}
	sensor := m["entities"].([]any)[1].(map[string]any)
	if sensor["unit"] != "°C" || sensor["battery"] != float64(88) || sensor["name"] != "sensor.temp" {
		t.Errorf("sensor: %v", sensor)
	}
	b = wantStatus(t, env, http.MethodGet, "/api/hass/entities?domain=switch", "viewer", nil, http.StatusOK)
	if m := decode(t, b); len(m["entities"].([]any)) != 1 || m["total"] != float64(4) {
		t.Errorf("domain filter: %s", b)
	}
	b = wantStatus(t, env, http.MethodGet, "/api/hass/services", "viewer", nil, http.StatusOK)
	var svcs []map[string]any
	_ = json.Unmarshal(b, &svcs)
	if len(svcs) != 3 || svcs[0]["domain"] != "light" || svcs[0]["service"] != "toggle" || len([]rune(svcs[1]["description"].(string))) != 100 {
		t.Errorf("services: %s", b)
	}

	// calls
	b = wantStatus(t, env, http.MethodPost, "/api/hass/services/light/turn_on", "operator", map[string]any{"entity_id": "light.kitchen", "brightness": 10}, http.StatusOK)
	if m := decode(t, b); m["status"] != "ok" || m["http_status"] != float64(200) {
		t.Errorf("call: %s", b)
	}
	b = wantStatus(t, env, http.MethodPost, "/api/hass/services/light/broken", "operator", map[string]any{}, http.StatusOK)
	if m := decode(t, b); m["http_status"] != float64(400) {
		t.Errorf("upstream 400 not reported: %s", b)
	}
	wantStatus(t, env, http.MethodPost, "/api/hass/services/Light/turn_on", "operator", map[string]any{}, http.StatusBadRequest)
	wantStatus(t, env, http.MethodPost, "/api/hass/services/light/turn_on", "operator", "", http.StatusBadRequest)
	wantStatus(t, env, http.MethodPost, "/api/hass/services/light/turn_on", "viewer", map[string]any{}, http.StatusForbidden)

	b = wantStatus(t, env, http.MethodPost, "/api/hass/toggle/switch.fan", "operator", nil, http.StatusOK)
	if m := decode(t, b); m["success"] != true || m["entity_id"] != "switch.fan" {
		t.Errorf("toggle: %s", b)
	}
	b = wantStatus(t, env, http.MethodPost, "/api/hass/toggle/sensor.temp", "operator", nil, http.StatusBadRequest)
	if !strings.Contains(string(b), "Cannot toggle domain: sensor") {
		t.Errorf("toggle sensor: %s", b)
	}
	b = wantStatus(t, env, http.MethodPost, "/api/hass/scene/scene.movie", "operator", nil, http.StatusOK)
	if m := decode(t, b); m["success"] != true {
		t.Errorf("scene: %s", b)
	}
	fake.mu.Lock()
	calls := strings.Join(fake.calls, "\n")
	fake.mu.Unlock()
	for _, want := range []string{`light/turn_on {"brightness":10,"entity_id":"light.kitchen"}`, `switch/toggle {"entity_id":"switch.fan"}`,
		`scene/turn_on {"entity_id":"scene.movie"}`} {
		if !strings.Contains(calls, want) {
			t.Errorf("upstream calls lack %q:\n%s", want, calls)
		}
	}
	auditHas(t, env, "hass_toggle", "Toggled switch.fan")
	auditHas(t, env, "hass_scene", "Activated scene.movie")
	auditHas(t, env, "hass_service", "light.turn_on")

	// wrong token upstream and an unreachable upstream: 502
	configure(t, env, map[string]any{"hassToken": "wrong"})
	wantStatus(t, env, http.MethodGet, "/api/hass/entities", "viewer", nil, http.StatusBadGateway)
	srv.Close()
	configure(t, env, map[string]any{"hassToken": token})
	b = wantStatus(t, env, http.MethodGet, "/api/hass/services", "viewer", nil, http.StatusBadGateway)
	if !strings.Contains(string(b), "Failed to fetch HA services") {
		t.Errorf("offline: %s", b)
	}
	wantStatus(t, env, http.MethodPost, "/api/hass/toggle/light.kitchen", "operator", nil, http.StatusBadGateway)
}

func TestHomeAssistantTimeout(t *testing.T) {
	env := servertest.New(t)
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	configure(t, env, map[string]any{"hassUrl": srv.URL, "hassToken": "t"})
	start := time.Now()
	wantStatus(t, env, http.MethodGet, "/api/hass/entities", "viewer", nil, http.StatusBadGateway)
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("entities took %v: the 4 s bound did not hold", d)
	}
}

// fakePihole6 speaks the Pi-hole v6 API: /api/auth (login, logout) and /api/dns/blocking.
type fakePihole6 struct {
	mu       sync.Mutex
	log      []string
	password string
}

func (f *fakePihole6) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := io.ReadAll(r.Body)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/auth":
		var in struct{ Password string }
		_ = json.Unmarshal(b, &in)
		if in.Password != f.password {
			_, _ = io.WriteString(w, `{"session":{"valid":false,"totp":false,"sid":null,"validity":-1,"message":"password incorrect"},"took":0.1}`)
			return
		}
		f.log = append(f.log, "login")
		_, _ = io.WriteString(w, `{"session":{"valid":true,"totp":false,"sid":"SID123","csrf":"c","validity":1800,"message":"password correct"},"took":0.1}`)
	case r.Method == http.MethodDelete && r.URL.Path == "/api/auth":
		f.log = append(f.log, "logout "+r.Header.Get("sid"))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && r.URL.Path == "/api/dns/blocking":
		if r.Header.Get("sid") != "SID123" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.log = append(f.log, "blocking "+string(b))
		_, _ = io.WriteString(w, `{"blocking":"disabled","timer":60,"took":0.1}`)
	default:
		http.NotFound(w, r)
	}
}

func TestPiholeToggle(t *testing.T) {
	env := servertest.New(t)
	wantStatus(t, env, http.MethodPost, "/api/pihole/toggle", "operator", map[string]any{}, http.StatusBadRequest)
	wantStatus(t, env, http.MethodPost, "/api/pihole/toggle", "viewer", map[string]any{}, http.StatusForbidden)

	v6 := &fakePihole6{password: "pi-secret-pw"}
	srv6 := httptest.NewServer(v6)
	defer srv6.Close()
	configure(t, env, map[string]any{"piholeUrl": srv6.URL + "/admin/", "piholePassword": "pi-secret-pw"})
	b := wantStatus(t, env, http.MethodPost, "/api/pihole/toggle", "operator", map[string]any{"action": "disable", "duration": 60}, http.StatusOK)
	if m := decode(t, b); m["success"] != true {
		t.Errorf("toggle: %s", b)
	}
	wantStatus(t, env, http.MethodPost, "/api/pihole/toggle", "operator", map[string]any{"action": "enable"}, http.StatusOK)
	wantStatus(t, env, http.MethodPost, "/api/pihole/toggle", "operator", map[string]any{"duration": "soon"}, http.StatusBadRequest)
	v6.mu.Lock()
	got := strings.Join(v6.log, "|")
	v6.mu.Unlock()
	want := `login|blocking {"blocking":false,"timer":60}|logout SID123|login|blocking {"blocking":true}|logout SID123`
	if got != want {
		t.Errorf("v6 calls:\n got %s\nwant %s", got, want)
	}
	auditHas(t, env, "pihole_toggle", "disable (duration=60s)")

	configure(t, env, map[string]any{"piholePassword": "wrong"})
	b = wantStatus(t, env, http.MethodPost, "/api/pihole/toggle", "operator", map[string]any{}, http.StatusBadGateway)
	if !strings.Contains(string(b), "Pi-hole auth failed: password incorrect") {
		t.Errorf("bad password: %s", b)
	}

	// v5: no /api/auth, the token goes to api.php
	var v5q []string
	var mu sync.Mutex
	srv5 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/api.php" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		v5q = append(v5q, r.URL.RawQuery)
		mu.Unlock()
		if r.URL.Query().Get("auth") != "v5token" {
			_, _ = io.WriteString(w, `[]`)
			return
		}
		_, _ = io.WriteString(w, `{"status":"disabled"}`)
	}))
	defer srv5.Close()
	configure(t, env, map[string]any{"piholeUrl": srv5.URL, "piholePassword": "", "piholeToken": "v5token"})
	wantStatus(t, env, http.MethodPost, "/api/pihole/toggle", "operator", map[string]any{"action": "disable"}, http.StatusOK)
	mu.Lock()
	if len(v5q) != 1 || v5q[0] != "disable=300&auth=v5token" {
		t.Errorf("v5 queries: %v", v5q)
	}
	mu.Unlock()
	configure(t, env, map[string]any{"piholeToken": "nope"})
	wantStatus(t, env, http.MethodPost, "/api/pihole/toggle", "operator", map[string]any{}, http.StatusBadGateway)
	srv5.Close()
	b = wantStatus(t, env, http.MethodPost, "/api/pihole/toggle", "operator", map[string]any{}, http.StatusBadGateway)
	if !strings.Contains(string(b), "Pi-hole toggle failed") {
		t.Errorf("offline: %s", b)
	}
}

func TestFrigateCameras(t *testing.T) {
	env := servertest.New(t)
	wantStatus(t, env, http.MethodGet, "/api/cameras/snapshot/front", "viewer", nil, http.StatusNotFound)
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 'J', 'F', 'I', 'F', 0xFF, 0xD9}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/front/latest.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(jpeg)
		case "/api/slow/latest.jpg":
			select {
			case <-time.After(9 * time.Second):
			case <-r.Context().Done():
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	configure(t, env, map[string]any{"frigateUrl": srv.URL, "cameraFeeds": []any{
		map[string]any{"name": "Front", "url": "http://cam/front.jpg", "type": "mjpeg"},
		map[string]any{"url": ""}, map[string]any{"url": "http://cam/back.jpg"}}})
	resp := env.Request(http.MethodGet, "/api/cameras/snapshot/front", env.Token("viewer"), nil, nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != string(jpeg) || resp.Header.Get("Content-Type") != "image/jpeg" ||
		resp.Header.Get("Cache-Control") != "no-cache, max-age=5" {
		t.Errorf("snapshot: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	wantStatus(t, env, http.MethodGet, "/api/cameras/snapshot/..%2Fetc", "viewer", nil, http.StatusBadRequest)
	wantStatus(t, env, http.MethodGet, "/api/cameras/snapshot/back", "viewer", nil, http.StatusBadGateway)
	if st, _ := env.Do(http.MethodGet, "/api/cameras/snapshot/front", "", nil); st != http.StatusUnauthorized {
		t.Errorf("no token: %d", st)
	}
	b := wantStatus(t, env, http.MethodGet, "/api/cameras", "viewer", nil, http.StatusOK)
	if string(b) != `[{"name":"Front","url":"http://cam/front.jpg","type":"mjpeg"},{"name":"Camera 3","url":"http://cam/back.jpg","type":"snapshot"}]`+"\n" {
		t.Errorf("cameras: %s", b)
	}
	if testing.Short() {
		return
	}
	start := time.Now()
	wantStatus(t, env, http.MethodGet, "/api/cameras/snapshot/slow", "viewer", nil, http.StatusBadGateway)
	if d := time.Since(start); d > 8500*time.Millisecond {
		t.Errorf("slow snapshot took %v, want the 8 s bound", d)
	}
}

func TestDiskIntelligence(t *testing.T) {
	env := servertest.New(t)
	wantStatus(t, env, http.MethodGet, "/api/disks/intelligence", "viewer", nil, http.StatusNotFound)
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		switch r.URL.Path {
		case "/api/summary":
			_, _ = io.WriteString(w, `{"success":true,"data":{"summary":{
 "0x5000a":{"device":{"wwn":"0x5000a","device_name":"sda","model_name":"WD Red","serial_number":"S1","device_status":0},"smart":{"temp":34,"power_on_hours":1000}},
 "0x5000b":{"device":{"wwn":"0x5000b","device_name":"sdb","model_name":"Seagate","serial_number":"S2","device_status":2},"smart":{"temp":41,"power_on_hours":40000}},
 "0x5000c":{"device":{"wwn":"0x5000c","device_name":"sdc","model_name":"Old","serial_number":"S3","device_status":2},"smart":{"temp":40,"power_on_hours":9}}}}}`)
		case "/api/device/0x5000a/details":
			_, _ = io.WriteString(w, `{"data":{"smart_results":[{"date":"2024-02-01T00:00:00Z","attrs":{"5":{"raw_value":0}}},{"date":"2024-01-01T00:00:00Z","attrs":{"5":{"raw_value":0}}}]}}`)
		case "/api/device/0x5000b/details":
			// newest first, as Scrutiny answers: growth 8 -> 48 over 4 samples = 10/sample
			_, _ = io.WriteString(w, `{"data":{"smart_results":[
 {"date":"2024-04-01T00:00:00Z","attrs":{"5":{"raw_value":48}}},{"date":"2024-03-01T00:00:00Z","attrs":{"5":{"raw_value":30}}},
 {"date":"2024-02-01T00:00:00Z","attrs":{"5":{"raw_value":20}}},{"date":"2024-01-01T00:00:00Z","attrs":{"5":{"raw_value":8}}}]}}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	configure(t, env, map[string]any{"scrutinyUrl": srv.URL})
	b := wantStatus(t, env, http.MethodGet, "/api/disks/intelligence", "viewer", nil, http.StatusOK)
	var disks []map[string]any
	if err := json.Unmarshal(b, &disks); err != nil || len(disks) != 3 {
		t.Fatalf("disks: %s", b)
	}
	// sdb: growth 10, status 2 -> min(100, 100+30) = 100; (4000-48)/10 = 395 months -> no estimate
	// sdc: details fail and status 2 -> 20; sda: flat -> 0
	if disks[0]["name"] != "sdb" || disks[0]["riskScore"] != float64(100) || disks[0]["growthRate"] != float64(10) || disks[0]["estimatedFailure"] != nil {
		t.Errorf("sdb: %v", disks[0])
	}
	if disks[1]["name"] != "sdc" || disks[1]["riskScore"] != float64(20) || disks[2]["name"] != "sda" || disks[2]["riskScore"] != float64(0) {
		t.Errorf("order/scores: %s", b)
	}
	mu.Lock()
	before := hits
	mu.Unlock()
	wantStatus(t, env, http.MethodGet, "/api/disks/intelligence", "viewer", nil, http.StatusOK)
	mu.Lock()
	if hits != before {
		t.Errorf("second call hit Scrutiny again (%d -> %d): the 300 s cache did not hold", before, hits)
	}
	mu.Unlock()
	srv.Close()
	configure(t, env, map[string]any{"scrutinyUrl": srv.URL + "/other"})
	b = wantStatus(t, env, http.MethodGet, "/api/disks/intelligence", "viewer", nil, http.StatusBadGateway)
	if !strings.Contains(string(b), "Scrutiny request failed") {
		t.Errorf("offline: %s", b)
	}
}

func TestBlastRadius(t *testing.T) {
	env := servertest.New(t)
	wantStatus(t, env, http.MethodGet, "/api/services/dependencies/blast-radius", "viewer", nil, http.StatusBadRequest)
	b := wantStatus(t, env, http.MethodGet, "/api/services/dependencies/blast-radius?node=db", "viewer", nil, http.StatusOK)
	if string(b) != `{"node":"db","dependents":[],"dependencies":[]}`+"\n" {
		t.Errorf("empty: %s", b)
	}
	configure(t, env, map[string]any{"serviceDependencies": "web>api, api>db, worker>db, db>disk, junk, api>cache"})
	b = wantStatus(t, env, http.MethodGet, "/api/services/dependencies/blast-radius?node=db", "viewer", nil, http.StatusOK)
	if string(b) != `{"node":"db","dependents":["api","web","worker"],"dependencies":["disk"]}`+"\n" {
		t.Errorf("db: %s", b)
	}
}

// mcStatusServer is a minimal Minecraft server answering the Server List Ping.
func mcStatusServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	status := `{"version":{"name":"1.21"},"players":{"max":10,"online":2},"description":"hi"}`
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				buf := make([]byte, 512)
				_ = c.SetDeadline(time.Now().Add(3 * time.Second))
				_, _ = c.Read(buf) // handshake + status request arrive together
				payload := append([]byte{0x00, byte(len(status))}, status...)
				_, _ = c.Write(append([]byte{byte(len(payload))}, payload...))
			}(c)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestGameServers(t *testing.T) {
	env := servertest.New(t)
	b := wantStatus(t, env, http.MethodGet, "/api/game-servers", "viewer", nil, http.StatusOK)
	if string(b) != "[]\n" {
		t.Errorf("unconfigured: %s", b)
	}
	mc := mcStatusServer(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() { // A2S_INFO
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 25 {
				continue
			}
			out := append([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x49, 17}, "Srv\x00de_dust2\x00csgo\x00Counter-Strike\x00"...)
			out = binary.LittleEndian.AppendUint16(out, 730)
			out = append(out, 5, 10, 0, 'd', 'l', 0, 1)
			_, _ = pc.WriteTo(out, addr)
		}
	}()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	configure(t, env, map[string]any{"gameServers": []any{
		map[string]any{"name": "Craft", "host": "127.0.0.1", "port": mc, "protocol": "minecraft"},
		map[string]any{"name": "CS", "host": "127.0.0.1", "port": pc.LocalAddr().(*net.UDPAddr).Port, "protocol": "source"},
		map[string]any{"host": "127.0.0.1", "port": closedPort},
		map[string]any{"name": "no port", "host": "127.0.0.1"},
	}})
	b = wantStatus(t, env, http.MethodGet, "/api/game-servers", "viewer", nil, http.StatusOK)
	var res []map[string]any
	_ = json.Unmarshal(b, &res)
	if len(res) != 3 {
		t.Fatalf("results: %s", b)
	}
	if res[0]["name"] != "Craft" || res[0]["status"] != "online" || res[0]["players"] != float64(2) || res[0]["max_players"] != float64(10) {
		t.Errorf("minecraft: %v", res[0])
	}
	if res[1]["name"] != "CS" || res[1]["status"] != "online" || res[1]["map"] != "de_dust2" || res[1]["players"] != float64(5) || res[1]["max_players"] != float64(10) {
		t.Errorf("source: %v", res[1])
	}
	if res[2]["name"] != fmt.Sprintf("127.0.0.1:%d", closedPort) || res[2]["status"] != "offline" || res[2]["ms"] != float64(0) {
		t.Errorf("tcp offline: %v", res[2])
	}
}

func TestWakeOnLAN(t *testing.T) {
	env := servertest.New(t)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	configure(t, env, map[string]any{"wolBroadcast": pc.LocalAddr().String()})
	wantStatus(t, env, http.MethodPost, "/api/wol", "viewer", map[string]any{"mac": "aa:bb:cc:dd:ee:ff"}, http.StatusForbidden)
	b := wantStatus(t, env, http.MethodPost, "/api/wol", "operator", map[string]any{"mac": ""}, http.StatusBadRequest)
	if !strings.Contains(string(b), "MAC address required") {
		t.Errorf("empty: %s", b)
	}
	wantStatus(t, env, http.MethodPost, "/api/wol", "operator", map[string]any{"mac": "zz:bb:cc:dd:ee:ff"}, http.StatusBadRequest)
	b = wantStatus(t, env, http.MethodPost, "/api/wol", "operator", map[string]any{"mac": "AA-BB-CC-DD-EE-0F"}, http.StatusOK)
	if m := decode(t, b); m["success"] != true {
		t.Errorf("wol: %s", b)
	}
	_ = pc.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 200)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, []byte(strings.Repeat("\xaa\xbb\xcc\xdd\xee\x0f", 16))...)
	if string(buf[:n]) != string(want) {
		t.Errorf("packet % x", buf[:n])
	}
	auditHas(t, env, "wol", "WOL AA-BB-CC-DD-EE-0F -> true")
	configure(t, env, map[string]any{"wolBroadcast": "not-an-ip"})
	wantStatus(t, env, http.MethodPost, "/api/wol", "operator", map[string]any{"mac": "aa:bb:cc:dd:ee:ff"}, http.StatusBadRequest)
}

func TestCloudRemotes(t *testing.T) {
	if _, err := exec.LookPath("rclone"); err != nil {
		t.Skip("rclone not installed")
	}
	dir := t.TempDir()
	t.Setenv("RCLONE_CONFIG", filepath.Join(dir, "rclone.conf"))
	env := servertest.New(t)
	b := wantStatus(t, env, http.MethodGet, "/api/cloud-remotes", "viewer", nil, http.StatusOK)
	if string(b) != `{"available":true,"remotes":[]}`+"\n" {
		t.Errorf("empty: %s", b)
	}
	target := filepath.Join(dir, "data")
	_ = os.MkdirAll(target, 0o755)
	wantStatus(t, env, http.MethodPost, "/api/cloud-remotes/create", "operator", map[string]any{"name": "nas", "type": "alias"}, http.StatusForbidden)
	wantStatus(t, env, http.MethodPost, "/api/cloud-remotes/create", "admin", map[string]any{"name": "nas"}, http.StatusBadRequest)
	wantStatus(t, env, http.MethodPost, "/api/cloud-remotes/create", "admin", map[string]any{"name": "-x", "type": "alias"}, http.StatusBadRequest)
	b = wantStatus(t, env, http.MethodPost, "/api/cloud-remotes/create", "admin", map[string]any{"name": "nas", "type": "alias",
		"params": map[string]any{"remote": "/tmp;rm"}}, http.StatusBadRequest)
	if !strings.Contains(string(b), "Invalid parameter value for remote") {
		t.Errorf("param: %s", b)
	}
	b = wantStatus(t, env, http.MethodPost, "/api/cloud-remotes/create", "admin", map[string]any{"name": "bad", "type": "nosuchbackend"}, http.StatusUnprocessableEntity)
	if !strings.Contains(string(b), "nosuchbackend") {
		t.Errorf("bad backend: %s", b)
	}
	wantStatus(t, env, http.MethodPost, "/api/cloud-remotes/create", "admin", map[string]any{"name": "nas", "type": "alias",
		"params": map[string]any{"remote": target}}, http.StatusOK)
	b = wantStatus(t, env, http.MethodGet, "/api/cloud-remotes", "viewer", nil, http.StatusOK)
	if string(b) != `{"available":true,"remotes":[{"name":"nas","label":"Cloud"}]}`+"\n" {
		t.Errorf("list: %s", b)
	}
	b = wantStatus(t, env, http.MethodPost, "/api/cloud-test", "operator", map[string]any{"remote": "nas"}, http.StatusOK)
	if string(b) != `{"success":true,"error":""}`+"\n" {
		t.Errorf("test: %s", b)
	}
	wantStatus(t, env, http.MethodPost, "/api/cloud-test", "viewer", map[string]any{"remote": "nas"}, http.StatusForbidden)
	wantStatus(t, env, http.MethodPost, "/api/cloud-test", "operator", map[string]any{"remote": "../x"}, http.StatusBadRequest)
	b = wantStatus(t, env, http.MethodPost, "/api/cloud-test", "operator", map[string]any{"remote": "gone"}, http.StatusUnprocessableEntity)
	if !strings.Contains(string(b), "gone") {
		t.Errorf("missing remote: %s", b)
	}
	wantStatus(t, env, http.MethodDelete, "/api/cloud-remotes/nas", "operator", nil, http.StatusForbidden)
	wantStatus(t, env, http.MethodDelete, "/api/cloud-remotes/nas", "admin", nil, http.StatusOK)
	b = wantStatus(t, env, http.MethodGet, "/api/cloud-remotes", "viewer", nil, http.StatusOK)
	if string(b) != `{"available":true,"remotes":[]}`+"\n" {
		t.Errorf("after delete: %s", b)
	}
	auditHas(t, env, "cloud_remote_create", "Created remote 'nas' (alias)")
	auditHas(t, env, "cloud_remote_delete", "Deleted remote 'nas'")
	auditHas(t, env, "cloud_test", "Remote nas -> True")
}

func TestCloudRemotesWithoutRclone(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	env := servertest.New(t)
	b := wantStatus(t, env, http.MethodGet, "/api/cloud-remotes", "viewer", nil, http.StatusOK)
	if string(b) != `{"available":false,"remotes":[]}`+"\n" {
		t.Errorf("no rclone: %s", b)
	}
	wantStatus(t, env, http.MethodPost, "/api/cloud-test", "operator", map[string]any{"remote": "x"}, http.StatusFailedDependency)
	wantStatus(t, env, http.MethodPost, "/api/cloud-remotes/create", "admin", map[string]any{"name": "x", "type": "alias"}, http.StatusFailedDependency)
	// tailscale is not on the PATH either: the documented 200 fallback
	b = wantStatus(t, env, http.MethodGet, "/api/tailscale/status", "viewer", nil, http.StatusOK)
	if string(b) != `{"error":"Tailscale not available"}`+"\n" {
		t.Errorf("tailscale: %s", b)
	}
}

func TestInfluxQueryRoute(t *testing.T) {
	env := servertest.New(t)
	const token = "influx-secret-token-123"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Token "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, ",result,table,_value\r\n,_result,0,42\r\n")
	}))
	defer srv.Close()
	wantStatus(t, env, http.MethodPost, "/api/influxdb/query", "operator", map[string]any{"query": "from(bucket:\"b\")"}, http.StatusForbidden)
	wantStatus(t, env, http.MethodPost, "/api/influxdb/query", "admin", map[string]any{"query": ""}, http.StatusBadRequest)
	wantStatus(t, env, http.MethodPost, "/api/influxdb/query", "admin", map[string]any{"query": "from(bucket:\"b\")"}, http.StatusNotFound)
	configure(t, env, map[string]any{"influxdbUrl": srv.URL, "influxdbToken": token, "influxdbOrg": "home"})
	b := wantStatus(t, env, http.MethodPost, "/api/influxdb/query", "admin", map[string]any{"query": "from(bucket:\"b\") |> range(start:-1h)"}, http.StatusOK)
	if string(b) != `[{"_value":"42"}]`+"\n" {
		t.Errorf("query: %s", b)
	}
	wantStatus(t, env, http.MethodPost, "/api/influxdb/query", "admin", map[string]any{"query": strings.Repeat("x", 17<<10)}, http.StatusBadRequest)
	auditHas(t, env, "influxdb_query", "from(bucket:")
	configure(t, env, map[string]any{"influxdbToken": "wrong"})
	wantStatus(t, env, http.MethodPost, "/api/influxdb/query", "admin", map[string]any{"query": "a |> b"}, http.StatusBadGateway)
}

// TestNoSecretInResponses configures every credential router 9 uses and
// checks that no route's answer carries one.
func TestNoSecretInResponses(t *testing.T) {
	env := servertest.New(t)
	secrets := map[string]string{"hassToken": "S3cret-hass-token", "piholePassword": "S3cret-pihole-pw",
		"piholeToken": "S3cret-pihole-token", "influxdbToken": "S3cret-influx-token"}
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// a hostile upstream echoing the credentials it received
		b, _ := json.Marshal(map[string]any{"headers": r.Header, "query": r.URL.RawQuery})
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(b)
	}))
	defer echo.Close()
	kv := map[string]any{"hassUrl": echo.URL, "piholeUrl": echo.URL, "influxdbUrl": echo.URL, "frigateUrl": echo.URL,
		"scrutinyUrl": echo.URL}
	for k, v := range secrets {
		kv[k] = v
	}
	configure(t, env, kv)
	calls := []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/cameras", nil}, {"GET", "/api/cameras/snapshot/x", nil}, {"GET", "/api/tailscale/status", nil},
		{"GET", "/api/disks/intelligence", nil}, {"GET", "/api/services/dependencies/blast-radius?node=x", nil},
		{"POST", "/api/hass/services/light/turn_on", map[string]any{}}, {"GET", "/api/hass/entities", nil},
		{"GET", "/api/hass/services", nil}, {"POST", "/api/hass/toggle/light.x", nil}, {"POST", "/api/hass/scene/scene.x", nil},
		{"POST", "/api/pihole/toggle", map[string]any{}}, {"GET", "/api/game-servers", nil},
		{"POST", "/api/influxdb/query", map[string]any{"query": "a |> b"}}, {"GET", "/api/settings", nil},
	}
	for _, c := range calls {
		_, b := env.Do(c.method, c.path, env.Token("admin"), c.body)
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s %s leaks %q: %s", c.method, c.path, s, b)
			}
		}
	}
}

// TestTailscaleStatusRoute runs a stand-in tailscale CLI (tailscale cannot
// run here) that prints a recorded `tailscale status --json`.
func TestTailscaleStatusRoute(t *testing.T) {
	dir := t.TempDir()
	fixture, err := filepath.Abs("tailscale/testdata/status.json")
	if err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\n[ \"$1 $2\" = \"status --json\" ] || exit 2\ncat '" + fixture + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "tailscale"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	env := servertest.New(t)
	b := wantStatus(t, env, http.MethodGet, "/api/tailscale/status", "viewer", nil, http.StatusOK)
	m := decode(t, b)
	self, _ := m["self"].(map[string]any)
	if self["hostname"] != "noba-host" || m["onlineCount"] != float64(1) || m["totalCount"] != float64(2) || m["tailnet"] != "tail1234.ts.net" {
		t.Errorf("status: %s", b)
	}
	if st, _ := env.Do(http.MethodGet, "/api/tailscale/status", "", nil); st != http.StatusUnauthorized {
		t.Errorf("no token: %d", st)
	}
}
