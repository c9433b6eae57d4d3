// Package providertest helps the providers' tests: it runs one provider
// through the real fan-out (provider.Blocks) and checks the result
// conventions of spec 10 §4.4 against fakes of the product's API.
package providertest

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Block runs p through provider.Blocks with wait and returns its block,
// normalised through JSON (numbers are float64, objects map[string]any).
func Block(t testing.TB, p provider.Provider, st provider.Settings, wait time.Duration) any {
	t.Helper()
	out := provider.Blocks(context.Background(), []provider.Provider{p}, st, wait, nil)
	v, ok := out[p.Key()]
	if !ok {
		t.Fatalf("Blocks left out key %q: %v", p.Key(), out)
	}
	return Normal(t, v)
}

// Normal round-trips v through JSON, as a client of /api/stats sees it.
func Normal(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("block does not encode: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Equal fails the test when got and want differ after JSON normalisation.
func Equal(t testing.TB, what string, got, want any) {
	t.Helper()
	g, w := Normal(t, got), Normal(t, want)
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		t.Errorf("%s: got %s, want %s", what, gb, wb)
	}
}

// NoSecret fails the test when the JSON of v contains one of secrets.
func NoSecret(t testing.TB, v any, secrets ...string) {
	t.Helper()
	b, _ := json.Marshal(v)
	for _, s := range secrets {
		if s != "" && strings.Contains(string(b), s) {
			t.Errorf("block leaks a secret %q: %s", s, b)
		}
	}
}

// ClosedURL returns an http URL of a loopback port nothing listens on.
func ClosedURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// Conventions checks the three failure objects of p: a fake that answers
// later than the wait gives the timeout object, one that answers 401 the
// unauthorized object, a closed port the offline object. settings builds
// complete settings (credentials included) pointing at a base URL.
func Conventions(t *testing.T, p provider.Provider, settings func(baseURL string) provider.Settings) {
	t.Helper()
	ConventionsFor(t, func(baseURL string) (provider.Provider, provider.Settings) { return p, settings(baseURL) })
}

// ConventionsFor is Conventions for providers whose API base URL is not a
// setting (public cloud APIs with an injectable base URL): setup returns
// the provider pointed at baseURL and complete settings. For "not
// configured" it is called with the empty base URL.
func ConventionsFor(t *testing.T, setup func(baseURL string) (provider.Provider, provider.Settings)) {
	t.Helper()
	at := setup
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			case <-time.After(10 * time.Second):
			}
		}))
		defer slow.Close()
		defer close(release)
		start := time.Now()
		p, st := at(slow.URL)
		got := Block(t, p, st, 300*time.Millisecond)
		Equal(t, "timeout block", got, provider.Timeout())
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("fan-out took %v, want it bounded by its wait", d)
		}
	})
	t.Run("unauthorized", func(t *testing.T) {
		deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"Unauthorized"}`, http.StatusUnauthorized)
		}))
		defer deny.Close()
		p, st := at(deny.URL)
		Equal(t, "unauthorized block", Block(t, p, st, 3*time.Second), provider.Unauthorized())
	})
	t.Run("offline", func(t *testing.T) {
		p, st := at(ClosedURL(t))
		Equal(t, "offline block", Block(t, p, st, 3*time.Second), provider.Offline())
	})
	t.Run("server error", func(t *testing.T) {
		broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}))
		defer broken.Close()
		p, st := at(broken.URL)
		Equal(t, "offline block", Block(t, p, st, 3*time.Second), provider.Offline())
	})
	t.Run("not configured", func(t *testing.T) {
		p, _ := at("")
		Equal(t, "unconfigured block", Block(t, p, provider.Settings{}, time.Second), provider.Empty(p))
	})
}
