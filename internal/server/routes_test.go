package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

type tsvRoute struct{ method, path, auth string }

// readRoutes reads the reference's route table (a copy of shared/spec/routes.tsv).
func readRoutes(t *testing.T) map[string]tsvRoute {
	t.Helper()
	f, err := os.Open("testdata/routes.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]tsvRoute{}
	for _, row := range rows[1:] {
		if len(row) < 3 {
			continue
		}
		out[row[0]+" "+norm(row[1])] = tsvRoute{row[0], row[1], row[2]}
	}
	return out
}

var param = regexp.MustCompile(`\{[^}]+\}`)

func norm(p string) string { return param.ReplaceAllString(p, "{}") }

func concrete(p string) string {
	return param.ReplaceAllStringFunc(p, func(s string) string {
		switch s {
		case "{metric}":
			return "cpu_percent"
		case "{hostname}":
			return "rc-nohost"
		case "{provider}":
			return "github"
		}
		return "rc-missing-1"
	})
}

// TestRouteRoles drives every route the server registers through the auth
// column of routes.tsv: 401 without a token, 403 for each role below the
// route's, neither for the route's own role. It grows with every room.
func TestRouteRoles(t *testing.T) {
	env := servertest.New(t)
	tsv := readRoutes(t)
	tokens := map[string]string{"viewer": env.Token("viewer"), "operator": env.Token("operator"), "admin": env.Token("admin")}

	doc := env.Server.Router.API.OpenAPI()
	type route struct{ method, path, auth string }
	var routes []route
	for path, item := range doc.Paths {
		add := func(m string, ext map[string]any) {
			a, _ := ext["x-noba-auth"].(string)
			routes = append(routes, route{m, path, a})
		}
		if item.Get != nil {
			add("GET", item.Get.Extensions)
		}
		if item.Post != nil {
			add("POST", item.Post.Extensions)
		}
		if item.Put != nil {
			add("PUT", item.Put.Extensions)
		}
		if item.Delete != nil {
			add("DELETE", item.Delete.Extensions)
		}
		if item.Patch != nil {
			add("PATCH", item.Patch.Extensions)
		}
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].path+routes[i].method < routes[j].path+routes[j].method })
	if len(routes) < 20 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	matched := 0
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	call := func(method, path, token string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var body io.Reader
		if method == "POST" || method == "PUT" || method == "PATCH" {
			body = strings.NewReader("{}")
		}
		req, _ := http.NewRequestWithContext(ctx, method, env.URL+path, body)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		// Streams (SSE) are answered once headers arrive: read only a bounded prefix.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return resp.StatusCode, e.Error
	}
	for _, r := range routes {
		want := r.auth
		if row, ok := tsv[r.method+" "+norm(r.path)]; ok {
			matched++
			if row.auth != r.auth {
				t.Errorf("%s %s: registered with auth %q, routes.tsv says %q", r.method, r.path, r.auth, row.auth)
			}
			want = row.auth
		}
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			p := concrete(r.path)
			switch want {
			case "None":
				return
			case "Agent":
				if st, _ := call(r.method, p, ""); st != http.StatusUnauthorized {
					t.Errorf("no agent key: got %d, want 401", st)
				}
				return
			}
			if st, _ := call(r.method, p, ""); st != http.StatusUnauthorized {
				t.Errorf("no token: got %d, want 401", st)
			}
			if st, _ := call(r.method, p, "not-a-valid-token"); st != http.StatusUnauthorized {
				t.Errorf("bad token: got %d, want 401", st)
			}
			ranks := map[string]int{"viewer": 1, "operator": 2, "admin": 3}
			need := map[string]int{"Read": 1, "SSE": 1, "Operator": 2, "Admin": 3}[want]
			if need == 0 {
				t.Fatalf("unknown auth %q", want)
			}
			for role, rank := range ranks {
				st, msg := call(r.method, p, tokens[role])
				if rank < need && (st != http.StatusForbidden || msg != "Forbidden") {
					t.Errorf("%s: got %d %q, want 403 Forbidden", role, st, msg)
				}
				// The guard's refusals read "Unauthorized"/"Forbidden"; a handler may
				// answer 401/403 for its own documented reasons (a wrong current password).
				if rank >= need && ((st == http.StatusForbidden && msg == "Forbidden") || (st == http.StatusUnauthorized && msg == "Unauthorized")) {
					t.Errorf("%s: got %d %q, want the route's own answer", role, st, msg)
				}
				if rank >= need && st >= 500 {
					t.Errorf("%s: got %d", role, st)
				}
			}
		})
	}
	t.Logf("%d routes registered, %d of them in routes.tsv", len(routes), matched)
}
