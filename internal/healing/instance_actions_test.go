package healing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

// calls records what a fake integration was asked.
type calls struct {
	mu   sync.Mutex
	list []string
}

func (c *calls) add(s string) {
	c.mu.Lock()
	c.list = append(c.list, s)
	c.mu.Unlock()
}

func (c *calls) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.list, " | ")
}

func addInstance(t *testing.T, e *servertest.Env, body map[string]any) {
	t.Helper()
	if st, b := e.Do(http.MethodPost, "/api/integrations/instances", e.Token("admin"), body); st != http.StatusOK {
		t.Fatalf("create instance %v: %d %s", body["id"], st, b)
	}
}

// fakePihole6 speaks Pi-hole v6's documented API: a session from POST
// /api/auth, POST /api/action/restartdns with the sid header, DELETE
// /api/auth to log out.
func fakePihole6(c *calls) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "POST /api/auth":
			var b struct{ Password string }
			_ = json.NewDecoder(r.Body).Decode(&b)
			if b.Password != "pi-Secret-6" {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"session":{"valid":false,"sid":null,"message":"password incorrect"}}`))
				return
			}
			_, _ = w.Write([]byte(`{"session":{"valid":true,"totp":false,"sid":"sid-42","csrf":"x","validity":300}}`))
		case "POST /api/action/restartdns":
			if r.Header.Get("sid") != "sid-42" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			c.add("restartdns")
			_, _ = w.Write([]byte(`{"took":0.01}`))
		case "DELETE /api/auth":
			c.add("logout " + r.Header.Get("sid"))
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
}

// The instance-based actions look the instance up server-side and call
// the documented API of its platform: Pi-hole v6 and v5 and AdGuard Home
// flush DNS, Sonarr drops its failed queue items, Plex and Jellyfin scan
// their libraries. Credentials never appear in a result; an unsupported
// platform, a missing instance and rejected credentials fail clearly.
func TestInstanceActionsSpeakPlatformAPIs(t *testing.T) {
	e := servertest.New(t)
	x := e.Server.Healing().Executor()
	ctx := context.Background()
	var pi6, pi5, adg, son, plex, jelly calls

	s6 := fakePihole6(&pi6)
	defer s6.Close()
	s5 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/api.php" {
			http.NotFound(w, r)
			return
		}
		if _, ok := r.URL.Query()["restartdns"]; !ok || r.URL.Query().Get("auth") != "tok-5" {
			_, _ = w.Write([]byte(`[]`))
			return
		}
		pi5.add("restartdns")
		_, _ = w.Write([]byte(`{"status":"success"}`))
	}))
	defer s5.Close()
	sa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if r.Method != http.MethodPost || r.URL.Path != "/control/cache_clear" {
			http.NotFound(w, r)
			return
		}
		if !ok || u != "admin" || p != "adg-Secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		adg.add("cache_clear")
		_, _ = w.Write([]byte("OK"))
	}))
	defer sa.Close()
	ss := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "son-Key" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.Method + " " + r.URL.Path {
		case "GET /api/v3/queue":
			_, _ = w.Write([]byte(`{"page":1,"pageSize":1000,"totalRecords":3,"records":[
			 {"id":11,"title":"Show.S01E01","status":"failed","trackedDownloadStatus":"error","trackedDownloadState":"downloading"},
			 {"id":12,"title":"Show.S01E02","status":"downloading","trackedDownloadStatus":"ok","trackedDownloadState":"downloading"},
			 {"id":13,"title":"Show.S01E03","status":"completed","trackedDownloadStatus":"warning","trackedDownloadState":"importFailed"}]}`))
		case "DELETE /api/v3/queue/bulk":
			var b struct{ IDs []int64 }
			_ = json.NewDecoder(r.Body).Decode(&b)
			son.add(r.URL.RawQuery)
			for _, id := range b.IDs {
				son.add(fmt.Sprint(id))
			}
			w.WriteHeader(http.StatusOK)
		default:
			http.NotFound(w, r)
		}
	}))
	defer ss.Close()
	sp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/library/sections/all/refresh" || r.Header.Get("X-Plex-Token") != "plex-Tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		plex.add("refresh all")
	}))
	defer sp.Close()
	sj := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/Library/Refresh" || r.Header.Get("X-Emby-Token") != "jf-Key" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		jelly.add("refresh")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer sj.Close()

	addInstance(t, e, map[string]any{"id": "pi6", "category": "dns", "platform": "pihole", "url": s6.URL + "/admin", "auth_config": map[string]any{"password": "pi-Secret-6"}})
	addInstance(t, e, map[string]any{"id": "pi6-bad", "category": "dns", "platform": "pihole", "url": s6.URL, "auth_config": map[string]any{"password": "wrong-Secret"}})
	addInstance(t, e, map[string]any{"id": "pi5", "category": "dns", "platform": "pihole", "url": s5.URL, "auth_config": map[string]any{"token": "tok-5"}})
	addInstance(t, e, map[string]any{"id": "adg", "category": "dns", "platform": "adguard", "url": sa.URL, "auth_config": map[string]any{"username": "admin", "password": "adg-Secret"}})
	addInstance(t, e, map[string]any{"id": "unb", "category": "dns", "platform": "unbound", "url": sa.URL})
	addInstance(t, e, map[string]any{"id": "son", "category": "media_management", "platform": "sonarr", "url": ss.URL, "auth_config": map[string]any{"api_key": "son-Key"}})
	addInstance(t, e, map[string]any{"id": "plex", "category": "media", "platform": "plex", "url": sp.URL, "auth_config": map[string]any{"token": "plex-Tok"}})
	addInstance(t, e, map[string]any{"id": "jf", "category": "media", "platform": "jellyfin", "url": sj.URL, "auth_config": map[string]any{"api_key": "jf-Key"}})

	run := func(action, id string) (bool, string) {
		res := x.Execute(ctx, action, map[string]any{"instance_id": id}, "manual", "", "", "")
		for _, secret := range []string{"pi-Secret-6", "tok-5", "adg-Secret", "son-Key", "plex-Tok", "jf-Key"} {
			if strings.Contains(res.Output+res.Error, secret) {
				t.Fatalf("%s %s leaked a credential: %+v", action, id, res)
			}
		}
		return res.Success, res.Output + res.Error
	}
	if ok, out := run("dns_cache_clear", "pi6"); !ok || pi6.String() != "restartdns | logout sid-42" {
		t.Fatalf("pihole v6: %v %s (calls %s)", ok, out, pi6.String())
	}
	if ok, out := run("dns_cache_clear", "pi6-bad"); ok || !strings.Contains(out, "credentials rejected") {
		t.Fatalf("pihole v6 bad password: %v %s", ok, out)
	}
	if ok, out := run("dns_cache_clear", "pi5"); !ok || pi5.String() != "restartdns" {
		t.Fatalf("pihole v5: %v %s", ok, out)
	}
	if ok, out := run("dns_cache_clear", "adg"); !ok || adg.String() != "cache_clear" || out != "AdGuard Home DNS cache cleared" {
		t.Fatalf("adguard: %v %s", ok, out)
	}
	if ok, out := run("dns_cache_clear", "unb"); ok || !strings.Contains(out, `does not support platform "unbound" (supported: adguard, pihole)`) {
		t.Fatalf("unsupported: %v %s", ok, out)
	}
	if ok, out := run("dns_cache_clear", "ghost"); ok || !strings.Contains(out, "Integration instance ghost") {
		t.Fatalf("missing instance: %v %s", ok, out)
	}
	if ok, out := run("servarr_queue_cleanup", "son"); !ok || son.String() != "removeFromClient=true&blocklist=true | 11 | 13" ||
		!strings.Contains(out, "removed 2 failed item(s): Show.S01E01, Show.S01E03") {
		t.Fatalf("sonarr: %v %s (calls %s)", ok, out, son.String())
	}
	if ok, out := run("media_library_scan", "plex"); !ok || plex.String() != "refresh all" {
		t.Fatalf("plex: %v %s", ok, out)
	}
	if ok, out := run("media_library_scan", "jf"); !ok || jelly.String() != "refresh" {
		t.Fatalf("jellyfin: %v %s", ok, out)
	}
	if ok, out := run("media_library_scan", "son"); ok || !strings.Contains(out, "does not support platform") {
		t.Fatalf("scan on sonarr: %v %s", ok, out)
	}
}
