package monitoring_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

// seedHistory creates n monitors, each linked to a status component, with
// 90 days of checks every 5 minutes (25 920 rows per monitor).
func seedHistory(b *testing.B, env *servertest.Env, n int) {
	b.Helper()
	for i := 0; i < n; i++ {
		id := createMonitor(b, env, map[string]any{"name": fmt.Sprintf("m%02d", i), "url": "http://127.0.0.1:9/", "enabled": false})
		if st, body := env.Do(http.MethodPost, "/api/status/components", env.Token("admin"),
			map[string]any{"name": fmt.Sprintf("Component %d", i), "group_name": fmt.Sprintf("Group %d", i%3), "monitor_id": id}); st != http.StatusOK {
			b.Fatalf("component: %d %s", st, body)
		}
		now := time.Now().Unix()
		_, err := env.Server.DB.W.Exec(`WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < 25919)
			INSERT INTO endpoint_check_history (monitor_id, timestamp, status, response_ms, status_code)
			SELECT ?, ? - k * 300, CASE WHEN k % 97 = 0 THEN 'down' ELSE 'up' END, 20 + k % 13, 200 FROM s`, id, now)
		if err != nil {
			b.Fatal(err)
		}
		_, off := time.Now().Zone()
		_, err = env.Server.DB.W.Exec(`INSERT INTO endpoint_daily (monitor_id, day, up, total, up_ms)
			SELECT monitor_id, (timestamp + ?) / 86400 AS d, SUM(CASE WHEN status = 'up' THEN 1 ELSE 0 END), COUNT(*),
				SUM(CASE WHEN status = 'up' THEN response_ms ELSE 0 END)
			FROM endpoint_check_history WHERE monitor_id = ? GROUP BY d`, off, id)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchGet(b *testing.B, env *servertest.Env, path, tok string) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp := env.Request(http.MethodGet, path, tok, nil, nil)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
}

// BenchmarkStatusPage measures the public status page and its JSON with 10
// monitor-linked components and 90 days of 5-minute history each (259 200 rows).
func BenchmarkStatusPage(b *testing.B) {
	env := servertest.New(b)
	seedHistory(b, env, 10)
	viewer := env.Token("viewer")
	b.Run("html", func(b *testing.B) { benchGet(b, env, "/status", "") })
	b.Run("public-json", func(b *testing.B) { benchGet(b, env, "/api/status/public", "") })
	b.Run("endpoints", func(b *testing.B) { benchGet(b, env, "/api/endpoints", viewer) })
	b.Run("uptime", func(b *testing.B) { benchGet(b, env, "/api/uptime", viewer) })
}
