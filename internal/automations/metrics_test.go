package automations_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// The condition type evaluates the flat metrics of the live collector
// snapshot, built as the host collector builds it (typed Go slices, a
// temperature with its unit): disk_percent is the fullest filesystem (the
// built-in disk-cleanup template's condition), lists expand to
// key[i].subkey, the snake_case headline names exist, and a metric no
// snapshot has is false.
func TestConditionReadsCollectorSnapshot(t *testing.T) {
	src := collect.SourceFunc(func(context.Context) (map[string]any, error) {
		return map[string]any{"cpuPercent": 42.5, "memPercent": 61.0, "cpuTemp": "71°C",
			"disks": []map[string]any{{"mount": "/", "percent": 40.0}, {"mount": "/srv", "percent": 91.5}}}, nil
	})
	e := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithStatsSource(src)}})
	op := e.Token("operator")
	if st, _ := e.Do(http.MethodGet, "/api/stats", op, nil); st != http.StatusOK {
		t.Fatalf("stats: %d", st)
	}
	for cond, want := range map[string]string{
		"disk_percent > 85":                     "done",
		"disk_percent > 95":                     "failed",
		"disks[1].percent >= 91.5":              "done",
		"cpu_percent > 40 AND mem_percent < 62": "done",
		"cpuTemp > 70":                          "done",
		"no_such_metric < 1":                    "failed",
	} {
		id := create(t, e, "operator", map[string]any{"name": "c " + cond, "type": "condition", "config": map[string]any{"condition": cond}})
		var res struct {
			RunID int64 `json:"run_id"`
		}
		if st := e.JSON(http.MethodPost, "/api/automations/"+id+"/run", op, nil, &res); st != http.StatusOK || res.RunID == 0 {
			t.Fatalf("run %q: %d %+v", cond, st, res)
		}
		r := waitRun(t, e, res.RunID, finished)
		if r.Status != want {
			out := ""
			if r.Output != nil {
				out = strings.TrimSpace(*r.Output)
			}
			t.Errorf("%q: run %s (%s), want %s", cond, r.Status, out, want)
		}
	}
}
