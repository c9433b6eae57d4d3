package admin

import (
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/db"
)

func openDB(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(filepath.Join(t.TempDir(), "noba.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if err := db.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// holdWriter keeps the single write connection busy for d (what agent
// reports and other writers do under load), from when it returns.
func holdWriter(t *testing.T, d *db.DB, hold time.Duration) <-chan struct{} {
	t.Helper()
	tx, err := d.W.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO audit (timestamp, username, action, details, ip) VALUES (0, 'x', 'hold', '', '')`); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(hold)
		_ = tx.Rollback()
		close(released)
	}()
	return released
}

func countAction(t *testing.T, d *db.DB, action string) int {
	t.Helper()
	var n int
	if err := d.R.QueryRow(`SELECT COUNT(*) FROM audit WHERE action = ?`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A login flood while the write connection is held longer than a request
// would wait: every login failure is still recorded (before, each entry
// waited for the connection on its own and was lost past 5 s).
func TestAuditFloodLosesNothing(t *testing.T) {
	d := openDB(t)
	a := NewAuditor(NewStore(d), slog.New(slog.DiscardHandler), nil)
	released := holdWriter(t, d, 6*time.Second)
	const n = 1000
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Record(context.Background(), "login_failed", "admin", "Failed login from 192.0.2."+strconv.Itoa(i%250), "192.0.2.1")
		}()
	}
	wg.Wait()
	<-released
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := countAction(t, d, "login_failed"); got != n || a.Dropped() != 0 {
		t.Fatalf("login_failed entries: %d of %d (dropped %d)", got, n, a.Dropped())
	}
}

// When the bounded queue is full, entries are dropped but counted: the
// next batch writes an audit_dropped entry with the count per action, so
// every login failure is recorded or counted.
func TestAuditQueueFullCountsDrops(t *testing.T) {
	d := openDB(t)
	w := newAuditWriter(NewStore(d), slog.New(slog.DiscardHandler), 10)
	released := holdWriter(t, d, 2*time.Second)
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.add(Entry{Time: time.Now().Unix(), Username: "admin", Action: "login_failed", Details: strconv.Itoa(i)}, 10*time.Millisecond)
		}()
	}
	wg.Wait()
	if w.droppedTotal.Load() == 0 {
		t.Fatal("a queue of 10 held 200 entries")
	}
	<-released
	// Let the writer drain the full queue (it was still full when the
	// connection came free), then one more entry carries the report of
	// the drops.
	for deadline := time.Now().Add(10 * time.Second); len(w.q) > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the queue did not drain: %d entries", len(w.q))
		}
	}
	w.add(Entry{Time: time.Now().Unix(), Username: "admin", Action: "login", Details: "ok"}, 10*time.Second)
	w.close()
	written := countAction(t, d, "login_failed")
	var details []string
	rows, err := d.R.Query(`SELECT details FROM audit WHERE action = 'audit_dropped'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counted := 0
	re := regexp.MustCompile(`login_failed=(\d+)`)
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		details = append(details, s)
		if m := re.FindStringSubmatch(s); m != nil {
			c, _ := strconv.Atoi(m[1])
			counted += c
		}
	}
	if written+counted != n || int64(counted) != w.droppedTotal.Load() {
		t.Fatalf("written %d + counted %d != %d (dropped %d; %q)", written, counted, n, w.droppedTotal.Load(), details)
	}
}
