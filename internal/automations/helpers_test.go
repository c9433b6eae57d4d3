package automations_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

type run struct {
	ID          int64   `json:"id"`
	Status      string  `json:"status"`
	Trigger     string  `json:"trigger"`
	Output      *string `json:"output"`
	Error       *string `json:"error"`
	TriggeredBy string  `json:"triggered_by"`
}

// create makes an automation as role and returns its id.
func create(t *testing.T, e *servertest.Env, role string, body map[string]any) string {
	t.Helper()
	var res struct {
		ID string `json:"id"`
	}
	st, b := e.Do(http.MethodPost, "/api/automations", e.Token(role), body)
	if st != http.StatusOK {
		t.Fatalf("create %v: %d %s", body["name"], st, b)
	}
	if err := json.Unmarshal(b, &res); err != nil || len(res.ID) != 12 {
		t.Fatalf("create: %s", b)
	}
	return res.ID
}

// waitRun polls a run until cond holds.
func waitRun(t *testing.T, e *servertest.Env, id int64, cond func(run) bool) run {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var r run
		if st := e.JSON(http.MethodGet, fmt.Sprintf("/api/runs/%d", id), e.Token("viewer"), nil, &r); st != http.StatusOK {
			t.Fatalf("get run %d: %d", id, st)
		}
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d stuck in %+v", id, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func status(s string) func(run) bool { return func(r run) bool { return r.Status == s } }

func finished(r run) bool { return r.Status != "running" && r.Status != "pending_approval" }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func decode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode: %v", err)
	}
}
