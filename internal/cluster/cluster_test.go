package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/jobs"
)

// recorder collects the messages of one channel.
type recorder struct {
	mu   sync.Mutex
	msgs []Message
	ch   chan Message
}

func record(b Bus, channel string) *recorder {
	r := &recorder{ch: make(chan Message, 64)}
	b.Subscribe(channel, func(m Message) {
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
		r.ch <- m
	})
	return r
}

func (r *recorder) next(t *testing.T, within time.Duration) Message {
	t.Helper()
	select {
	case m := <-r.ch:
		return m
	case <-time.After(within):
		t.Fatalf("no message within %s", within)
		return Message{}
	}
}

func (r *recorder) none(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case m := <-r.ch:
		t.Fatalf("unexpected message %q from %s", m.Data, m.From)
	case <-time.After(within):
	}
}

func TestSingleNodeHasNoPeersAndLeads(t *testing.T) {
	n := Single("solo")
	defer n.Close()
	if n.Bus.Peers() {
		t.Fatal("a single node has no peers")
	}
	if n.ID() != "solo" {
		t.Fatalf("id %q", n.ID())
	}
	if err := Send(context.Background(), n.Bus, Channel[int]{Name: "x"}, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	lctx, lcancel, err := n.Elector.Lead(ctx)
	if err != nil || !n.Elector.Leading() {
		t.Fatalf("single node does not lead: %v", err)
	}
	lcancel()
	<-lctx.Done()
}

func TestReplicaIDDefaultIsUnique(t *testing.T) {
	a, b := ReplicaID(""), ReplicaID("")
	if a == b || !strings.Contains(a, "-") {
		t.Fatalf("ids %q %q", a, b)
	}
	if ReplicaID(" r1 ") != "r1" {
		t.Fatal("configured id not kept")
	}
}

// busContract is what every Bus implementation must do: deliver to the
// other replicas, never back to the publisher, large payloads included.
func busContract(t *testing.T, a, b Bus) {
	ra, rb := record(a, "c1"), record(b, "c1")
	other := record(b, "c2")
	ctx := context.Background()
	if err := a.Publish(ctx, "c1", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	m := rb.next(t, 5*time.Second)
	if string(m.Data) != `{"n":1}` || m.From != a.ID() || m.Channel != "c1" {
		t.Fatalf("got %+v", m)
	}
	ra.none(t, 300*time.Millisecond)
	other.none(t, 10*time.Millisecond)

	// Typed, both ways.
	type cmd struct {
		Host string `json:"host"`
		Big  string `json:"big"`
	}
	ch := Channel[cmd]{Name: "typed"}
	got := make(chan cmd, 4)
	Listen(a, ch, nil, func(from string, v cmd) {
		if from == b.ID() {
			got <- v
		}
	})
	big := strings.Repeat("x", 20000) // over the NOTIFY limit
	if err := Send(ctx, b, ch, cmd{Host: "h1", Big: big}); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if v.Host != "h1" || v.Big != big {
			t.Fatalf("typed large payload damaged: host %q, %d bytes", v.Host, len(v.Big))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("large typed message not delivered")
	}
	// Non-JSON bytes.
	if err := a.Publish(ctx, "c1", []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if m := rb.next(t, 5*time.Second); string(m.Data) != "\x00\x01\x02" {
		t.Fatalf("binary payload %q", m.Data)
	}
}

func TestLocalHubBus(t *testing.T) {
	h := NewHub()
	a, b := h.Join("a"), h.Join("b")
	defer a.Close()
	defer b.Close()
	if !a.Bus.Peers() {
		t.Fatal("two nodes are peers")
	}
	busContract(t, a.Bus, b.Bus)
}

func TestLocalHubLeaderFailover(t *testing.T) {
	h := NewHub()
	a, b := h.Join("a"), h.Join("b")
	defer b.Close()
	electorFailover(t, a, b, func() { _ = a.Close() })
}

// electorFailover: exactly one of two nodes leads; after kill ends the
// leader (a), the other leads.
func electorFailover(t *testing.T, a, b *Node, kill func()) time.Duration {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runsA, runsB atomic.Int32
	job := func(n *Node, runs *atomic.Int32) jobs.Job {
		return LeaderJob(n.Elector, jobs.Every("probe", 50*time.Millisecond, func(context.Context) error {
			runs.Add(1)
			return nil
		}))
	}
	go func() { _ = job(a, &runsA).Run(ctx) }()
	waitFor(t, 10*time.Second, "a leads", func() bool { return a.Elector.Leading() && runsA.Load() > 0 })
	go func() { _ = job(b, &runsB).Run(ctx) }()
	time.Sleep(500 * time.Millisecond)
	if b.Elector.Leading() || runsB.Load() != 0 {
		t.Fatal("two replicas lead at once")
	}
	start := time.Now()
	kill()
	waitFor(t, 20*time.Second, "b leads after the leader died", func() bool { return b.Elector.Leading() && runsB.Load() > 0 })
	took := time.Since(start)
	t.Logf("failover took %s", took)
	return took
}

func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLeaderJobWaitsAfterItsJobEnds(t *testing.T) {
	n := Single("solo")
	defer n.Close()
	var runs atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = LeaderJob(n.Elector, jobs.Func{JobName: "once", Fn: func(context.Context) error { runs.Add(1); return nil }}).Run(ctx)
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	<-done
	if runs.Load() != 1 {
		t.Fatalf("a job that ended was restarted %d times while leading", runs.Load())
	}
}

func TestBridgeCarriesEventsWithoutEcho(t *testing.T) {
	h := NewHub()
	a, b := h.Join("a"), h.Join("b")
	defer a.Close()
	defer b.Close()
	evA, evB := events.New(), events.New()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var adopted atomic.Value
	for _, x := range []struct {
		n  *Node
		ev *events.Bus
	}{{a, evA}, {b, evB}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Bridge(ctx, x.n, x.ev, nil, Topic{Name: "alerts.event"},
				Topic{Name: "stats.snapshot", LeaderOnly: true, Deliver: func(d []byte) { adopted.Store(string(d)) }})
		}()
	}
	defer func() { cancel(); wg.Wait() }()
	subA, cA := evA.Subscribe("alerts.event", 16)
	defer cA()
	subB, cB := evB.Subscribe("alerts.event", 16)
	defer cB()
	time.Sleep(100 * time.Millisecond) // the bridges subscribe

	evA.Publish("alerts.event", map[string]any{"event": "fired", "rule_id": "r1"})
	<-subA // A's own subscriber sees its event once
	select {
	case e := <-subB:
		if m := e.Data.(map[string]any); m["rule_id"] != "r1" {
			t.Fatalf("bridged %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("alert not bridged to b")
	}
	select {
	case e := <-subA:
		t.Fatalf("event echoed back to a: %v", e.Data)
	case e := <-subB:
		t.Fatalf("event delivered twice on b: %v", e.Data)
	case <-time.After(300 * time.Millisecond):
	}

	// Leader-only topic: only the leader's snapshot crosses.
	lctx, lcancel, err := a.Elector.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lcancel()
	_ = lctx
	evB.Publish("stats.snapshot", map[string]any{"from": "b"})
	evA.Publish("stats.snapshot", map[string]any{"from": "a"})
	waitFor(t, 5*time.Second, "leader snapshot adopted", func() bool { return adopted.Load() != nil })
	time.Sleep(200 * time.Millisecond)
	if got := adopted.Load().(string); got != `{"from":"a"}` {
		t.Fatalf("adopted %s; want only the leader's snapshot", got)
	}
}

// pgDatabase creates a database for the test on NOBA_TEST_PG_URL and
// returns its URL (skipping without it).
func pgDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("NOBA_TEST_PG_URL")
	if admin == "" {
		t.Skip("PostgreSQL test: set NOBA_TEST_PG_URL (eval \"$(scripts/pg-up.sh)\") to run it")
	}
	ctx := context.Background()
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	name := "noba_cl_" + hex.EncodeToString(rb[:])
	pgExec(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { pgExec(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	_ = ctx
	return u.String()
}

func pgExec(t *testing.T, dsn, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func openPG(t *testing.T, dsn, id string) *Node {
	t.Helper()
	n, err := Open(context.Background(), dsn, Options{ID: id, Retry: 200 * time.Millisecond, Check: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

func TestPostgresBus(t *testing.T) {
	dsn := pgDatabase(t)
	a, b := openPG(t, dsn, "a"), openPG(t, dsn, "b")
	busContract(t, a.Bus, b.Bus)
}

func TestPostgresBusResubscribesAfterConnectionLoss(t *testing.T) {
	dsn := pgDatabase(t)
	a, b := openPG(t, dsn, "a"), openPG(t, dsn, "b")
	rb := record(b.Bus, "c")
	reconnected := make(chan struct{}, 1)
	b.Bus.OnReconnect(func() { reconnected <- struct{}{} })
	pb := b.Bus.(*pgBus)
	pid := pb.listenerPID()
	pgExec(t, dsn, "SELECT pg_terminate_backend($1)", int32(pid))
	select {
	case <-reconnected:
	case <-time.After(15 * time.Second):
		t.Fatal("bus did not reconnect")
	}
	if pb.listenerPID() == pid {
		t.Fatal("same backend after reconnect")
	}
	if err := a.Bus.Publish(context.Background(), "c", []byte(`"after"`)); err != nil {
		t.Fatal(err)
	}
	if m := rb.next(t, 5*time.Second); string(m.Data) != `"after"` {
		t.Fatalf("got %q", m.Data)
	}
}

func TestPostgresLeaderFailoverWhenLeaderLeaves(t *testing.T) {
	dsn := pgDatabase(t)
	a := openPG(t, dsn, "a")
	b := openPG(t, dsn, "b")
	took := electorFailover(t, a, b, func() { _ = a.Close() })
	if took > 5*time.Second {
		t.Fatalf("failover took %s; the stated bound is Retry + a round trip", took)
	}
}

func TestPostgresLeaderGivesUpWhenItsLockConnectionDies(t *testing.T) {
	dsn := pgDatabase(t)
	a := openPG(t, dsn, "a")
	b := openPG(t, dsn, "b")
	electorFailover(t, a, b, func() {
		// The leader's lock connection is killed (a partition, a
		// restarted pooler): a notices, stops leading; b takes the lock.
		pgExec(t, dsn, fmt.Sprintf(`SELECT pg_terminate_backend(pid) FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND objid = %d`, uint32(LeaderKey&0xffffffff)))
		waitFor(t, 10*time.Second, "a stops leading", func() bool { return !a.Elector.Leading() })
	})
}
