package domainexpiry_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/domainexpiry"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

// fakeWhois writes an executable whois answering from testdata per domain.
func fakeWhois(t *testing.T, delay string) string {
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "whois")
	script := `#!/bin/sh
sleep ` + delay + `
case "$1" in
example.com) cat '` + dir + `/whois-com.txt' ;;
example.co.uk) cat '` + dir + `/whois-uk.txt' ;;
example.ru) cat '` + dir + `/whois-ru.txt' ;;
example.de) cat '` + dir + `/whois-de.txt' ;;
*) echo "fgets: Connection reset by peer" >&2; exit 1 ;;
esac
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func days(iso string) int {
	t, _ := time.Parse(time.RFC3339, iso)
	return int(time.Until(t).Hours() / 24)
}

func TestItems(t *testing.T) {
	p := domainexpiry.New(nil)
	p.Bin = fakeWhois(t, "0")
	st := provider.Settings{"domainList": "example.com, Example.CO.UK.,example.ru,example.de,-rf.com,down.net,example.com"}
	got := providertest.Block(t, p, st, 4*time.Second)
	providertest.Equal(t, "items", got, []any{
		map[string]any{"domain": "example.com", "expires": "2099-08-13T04:00:00Z", "days": days("2099-08-13T04:00:00Z")},
		map[string]any{"domain": "example.co.uk", "expires": "2098-03-12T00:00:00Z", "days": days("2098-03-12T00:00:00Z")},
		map[string]any{"domain": "example.ru", "expires": "2097-03-01T21:00:00Z", "days": days("2097-03-01T21:00:00Z")},
		map[string]any{"domain": "example.de", "error": "Could not parse expiry"},
		map[string]any{"domain": "-rf.com", "error": "Invalid domain"},
		map[string]any{"domain": "down.net", "error": "Lookup failed"},
	})
}

// TestSlowWhois: a cycle does not wait past its deadline; the lookup
// finishes in the background and a later cycle shows it.
func TestSlowWhois(t *testing.T) {
	p := domainexpiry.New(nil)
	p.Bin = fakeWhois(t, "1")
	st := provider.Settings{"domainList": "example.com"}
	start := time.Now()
	providertest.Equal(t, "pending", providertest.Block(t, p, st, 500*time.Millisecond),
		[]any{map[string]any{"domain": "example.com", "error": "Lookup pending"}})
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("cycle took %v", d)
	}
	var got any
	for i := 0; i < 50; i++ {
		got = providertest.Block(t, p, st, 200*time.Millisecond)
		if m := got.([]any)[0].(map[string]any); m["expires"] != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("lookup never completed: %v", got)
}

func TestNotInstalled(t *testing.T) {
	p := domainexpiry.New(nil)
	p.Bin = filepath.Join(t.TempDir(), "whois")
	providertest.Equal(t, "no whois", providertest.Block(t, p, provider.Settings{"domainList": "example.com,b.org"}, time.Second),
		[]any{map[string]any{"domain": "example.com", "error": "whois not installed"},
			map[string]any{"domain": "b.org", "error": "whois not installed"}})
	providertest.Equal(t, "unconfigured", providertest.Block(t, p, provider.Settings{}, time.Second), []any{})
}

func TestParseExpiry(t *testing.T) {
	for in, want := range map[string]string{
		"Registrar Registration Expiration Date: 2027-01-02T03:04:05.0Z": "2027-01-02T03:04:05Z",
		"expires:       2026-05-06":                                      "2026-05-06T00:00:00Z",
		"Expiration Date: 03.04.2026 10:00:00":                           "2026-04-03T10:00:00Z",
		"Expiry Date: 2026-03-12 (YYYY-MM-DD)":                           "2026-03-12T00:00:00Z",
	} {
		got, ok := domainexpiry.ParseExpiry(in)
		if !ok || got.UTC().Format(time.RFC3339) != want {
			t.Errorf("%q: got %v %v, want %s", in, got, ok, want)
		}
	}
	if _, ok := domainexpiry.ParseExpiry("No match for \"NOPE.COM\".\nfree-date: 2026-01-01\n"); ok {
		t.Error("parsed an expiry from a not-found answer")
	}
}
