package agents_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/noba-go/noba/internal/wire"
)

// BenchmarkReportHandler measures POST /api/agent/report through the whole
// server handler (middleware, key check, decode, ingest, history write)
// with 1,000 hosts reporting in turn.
func BenchmarkReportHandler(b *testing.B) {
	env := newEnv(b)
	const hosts = 1000
	bodies := make([][]byte, hosts)
	for i := range bodies {
		bodies[i], _ = json.Marshal(simReport(fmt.Sprintf("bench-%04d", i)))
	}
	h := env.Server.Handler
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, wire.PathReport, bytes.NewReader(bodies[i%hosts]))
		req.Header.Set(wire.HeaderAgentKey, testKey)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("report: %d %s", w.Code, w.Body)
		}
		i++
	}
}
