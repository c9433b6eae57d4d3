package integrations_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/noba-go/noba/internal/integrations"
)

// BenchmarkBlocks measures one fan-out round with Pi-hole (v6), Plex and
// Home Assistant configured against loopback fakes.
func BenchmarkBlocks(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"session":{"valid":true,"sid":"s","validity":1800}}`))
	})
	mux.HandleFunc("GET /api/stats/summary", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"queries":{"total":10,"blocked":1,"percent_blocked":10},"gravity":{"domains_being_blocked":5}}`))
	})
	mux.HandleFunc("GET /api/dns/blocking", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"blocking":"enabled"}`))
	})
	mux.HandleFunc("GET /status/sessions", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"MediaContainer":{"size":1}}`))
	})
	mux.HandleFunc("GET /activities", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"MediaContainer":{"size":0}}`))
	})
	mux.HandleFunc("GET /api/states", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"entity_id":"light.a","state":"on"},{"entity_id":"switch.b","state":"off"}]`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r := integrations.New(integrations.Deps{Settings: settings{"piholeUrl": srv.URL, "piholePassword": "pw",
		"plexUrl": srv.URL, "plexToken": "t", "hassUrl": srv.URL, "hassToken": "t"}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out := r.Blocks(ctx)
		if out["hass"] == nil {
			b.Fatal("no hass block")
		}
	}
}
