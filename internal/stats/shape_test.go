package stats

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/noba-go/noba/internal/collect"
)

// jsonKind is the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// nullable are the documented keys that read null when not measured or
// not configured (spec 10 §4.2/§4.4): temperatures and integration blocks.
var nullable = map[string]bool{"cpu_temp": true, "gpu_temp": true, "pihole": true, "plex": true, "truenas": true}

// elementKeysDiffer are documented lists whose element fields the
// established server names otherwise (services: name/status, §19); their
// list type is still checked.
var elementKeysDiffer = map[string]bool{"services": true}

// checkShape compares a served payload with the documented example: every
// documented key is present with the documented JSON type (or null where
// allowed), documented objects carry their documented fields, and the
// elements of documented lists carry the documented element fields.
func checkShape(t *testing.T, where string, doc, got map[string]any) {
	t.Helper()
	for k, dv := range doc {
		gv, ok := got[k]
		if !ok {
			t.Errorf("%s: documented key %q missing", where, k)
			continue
		}
		dk, gk := jsonKind(dv), jsonKind(gv)
		switch {
		case dk == "null" || gk == dk:
		case gk == "null" && nullable[k]:
			continue
		default:
			t.Errorf("%s: %q is %s, documented %s", where, k, gk, dk)
			continue
		}
		switch d := dv.(type) {
		case map[string]any:
			for f := range d {
				if _, ok := gv.(map[string]any)[f]; !ok {
					t.Errorf("%s: %s.%s missing", where, k, f)
				}
			}
		case []any:
			de, isObj := firstObject(d)
			if !isObj || elementKeysDiffer[k] {
				continue
			}
			for i, e := range gv.([]any) {
				m, ok := e.(map[string]any)
				if !ok {
					t.Errorf("%s: %s[%d] is %s, documented object", where, k, i, jsonKind(e))
					continue
				}
				for f, fv := range de {
					x, has := m[f]
					if !has {
						t.Errorf("%s: %s[%d].%s missing", where, k, i, f)
					} else if jsonKind(x) != jsonKind(fv) && x != nil {
						t.Errorf("%s: %s[%d].%s is %s, documented %s", where, k, i, f, jsonKind(x), jsonKind(fv))
					}
				}
			}
		}
	}
}

func firstObject(l []any) (map[string]any, bool) {
	if len(l) == 0 {
		return nil, false
	}
	m, ok := l[0].(map[string]any)
	return m, ok
}

// TestStatsShapeMatchesReference: /api/stats and the SSE stream, fed by the
// real host collector, carry the keys and JSON types of the reference's
// /api/stats example (api-reference.txt, copied to testdata), and the
// stream's frame has the same keys and types as /api/stats.
func TestStatsShapeMatchesReference(t *testing.T) {
	raw, err := os.ReadFile("testdata/api-stats.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, collect.NewHost(collect.HostOptions{}), func(d *Deps) {
		d.Settings = staticSettings(map[string]any{"monitoredServices": "sshd", "radarIps": "127.0.0.1"})
	})
	if err := h.room.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, body, _ := h.get(t, "/api/stats", "viewer")
	if code != 200 {
		t.Fatalf("/api/stats %d %s", code, body)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	checkShape(t, "/api/stats", doc, got)
	// a served disk shows the documented fields (the host has a root fs)
	if len(got["disks"].([]any)) == 0 {
		t.Error("/api/stats: no disks collected from the host")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.srv.URL+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer viewer")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ev, err := readEvent(bufio.NewReader(resp.Body))
	if err != nil {
		t.Fatal(err)
	}
	var frame map[string]any
	if err := json.Unmarshal([]byte(ev), &frame); err != nil {
		t.Fatalf("stream frame: %v", err)
	}
	checkShape(t, "/api/stream", doc, frame)
	for k, v := range got {
		fv, ok := frame[k]
		if !ok {
			t.Errorf("/api/stream lacks %q of /api/stats", k)
		} else if jsonKind(fv) != jsonKind(v) {
			t.Errorf("/api/stream %q is %s, /api/stats %s", k, jsonKind(fv), jsonKind(v))
		}
	}
}
