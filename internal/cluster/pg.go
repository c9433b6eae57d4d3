package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgChannel is the one PostgreSQL notification channel of the cluster;
// the bus's own channels travel inside the payload.
const pgChannel = "noba_cluster"

// notifyLimit is the largest payload sent inline: PostgreSQL refuses
// NOTIFY payloads of 8000 bytes or more.
const notifyLimit = 7900

// payloadTTL is how long a large payload's row is kept for its readers.
const payloadTTL = 5 * time.Minute

// Options configure Open.
type Options struct {
	// ID is the replica id (NOBA_REPLICA_ID); empty: hostname+random.
	ID  string
	Log *slog.Logger
	// LockKey is the advisory lock key of leadership (default LeaderKey).
	LockKey int64
	// Retry is how often a follower tries the lock; Check how often the
	// leader checks its connection (defaults 1 s each).
	Retry, Check time.Duration
}

// LeaderKey is the default advisory lock key of leadership ("noba-ldr").
const LeaderKey int64 = 0x6e6f62612d6c6472

// Open joins the replicas sharing the PostgreSQL database at url: it
// creates the cluster's table when missing, starts listening and starts
// the leader election. Close the node to leave.
func Open(ctx context.Context, url string, o Options) (*Node, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	o.ID = ReplicaID(o.ID)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if err := ensureSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	b := &pgBus{id: o.ID, url: url, pool: pool, log: o.Log.With("part", "cluster", "replica", o.ID),
		ready: make(chan struct{})}
	e := newPGElector(url, o)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); b.listen(runCtx) }()
	go func() { defer wg.Done(); b.janitor(runCtx) }()
	go func() { defer wg.Done(); e.run(runCtx) }()
	// Wait for the first LISTEN, so that messages published after Open
	// returns reach this replica.
	select {
	case <-b.ready:
	case <-time.After(10 * time.Second):
		b.log.Warn("cluster: not listening yet; continuing")
	case <-ctx.Done():
	}
	return &Node{Bus: b, Elector: e, close: func() error {
		stop()
		wg.Wait()
		pool.Close()
		return nil
	}}, nil
}

// ensureSchema creates the table of large payloads (unlogged: it holds
// messages in flight, nothing to recover after a crash). Replicas starting
// together serialise on a transaction lock.
func ensureSchema(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("cluster schema: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, LeaderKey+1); err != nil {
		return fmt.Errorf("cluster schema: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE UNLOGGED TABLE IF NOT EXISTS noba_cluster_payloads (
  id BIGSERIAL PRIMARY KEY,
  body BYTEA NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("cluster schema: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("cluster schema: %w", err)
	}
	return nil
}

// envelope is the NOTIFY payload: the channel, the sender and either the
// data inline or the id of its row.
type envelope struct {
	C string          `json:"c"`
	F string          `json:"f"`
	D json.RawMessage `json:"d,omitempty"`
	B []byte          `json:"b,omitempty"`
	R int64           `json:"r,omitempty"`
}

type pgBus struct {
	id   string
	url  string
	pool *pgxpool.Pool
	log  *slog.Logger

	mu     sync.Mutex
	subs   subs
	hooks  []func()
	pid    uint32 // backend pid of the listening connection (tests)
	ready  chan struct{}
	readyO sync.Once
}

func (b *pgBus) ID() string  { return b.id }
func (b *pgBus) Peers() bool { return true }

func (b *pgBus) Publish(ctx context.Context, channel string, data []byte) error {
	env := envelope{C: channel, F: b.id}
	if json.Valid(data) {
		env.D = data
	} else {
		env.B = data
	}
	p, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("cluster publish %s: %w", channel, err)
	}
	if len(p) > notifyLimit {
		var id int64
		if err := b.pool.QueryRow(ctx, `INSERT INTO noba_cluster_payloads (body) VALUES ($1) RETURNING id`, data).Scan(&id); err != nil {
			return fmt.Errorf("cluster publish %s: store payload: %w", channel, err)
		}
		p, _ = json.Marshal(envelope{C: channel, F: b.id, R: id})
	}
	if _, err := b.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, pgChannel, string(p)); err != nil {
		return fmt.Errorf("cluster publish %s: %w", channel, err)
	}
	return nil
}

func (b *pgBus) Subscribe(channel string, h Handler) func() {
	b.mu.Lock()
	id := b.subs.add(channel, h)
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.subs.remove(channel, id)
			b.mu.Unlock()
		})
	}
}

func (b *pgBus) OnReconnect(f func()) {
	b.mu.Lock()
	b.hooks = append(b.hooks, f)
	b.mu.Unlock()
}

// listen holds the LISTEN connection, reconnecting (and resubscribing)
// with a growing pause when it is lost, until ctx ends.
func (b *pgBus) listen(ctx context.Context) {
	pause := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := b.listenOnce(ctx, func() {
			pause = 100 * time.Millisecond
			b.readyO.Do(func() { close(b.ready) })
			if !first {
				b.log.Info("cluster bus reconnected")
				b.mu.Lock()
				hooks := append([]func(){}, b.hooks...)
				b.mu.Unlock()
				for _, f := range hooks {
					f()
				}
			}
			first = false
		})
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("cluster bus connection lost; reconnecting", "err", err, "pause", pause)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		if pause *= 2; pause > 5*time.Second {
			pause = 5 * time.Second
		}
	}
}

func (b *pgBus) listenOnce(ctx context.Context, up func()) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, b.url)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = conn.Close(c)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgChannel); err != nil {
		return err
	}
	b.mu.Lock()
	b.pid = conn.PgConn().PID()
	b.mu.Unlock()
	up()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		b.deliver(ctx, n.Payload)
	}
}

func (b *pgBus) deliver(ctx context.Context, payload string) {
	var env envelope
	if err := json.Unmarshal([]byte(payload), &env); err != nil {
		b.log.Warn("cluster message undecodable", "err", err)
		return
	}
	if env.F == b.id {
		return
	}
	b.mu.Lock()
	hs := b.subs.of(env.C)
	b.mu.Unlock()
	if len(hs) == 0 {
		return
	}
	data := []byte(env.D)
	if env.B != nil {
		data = env.B
	}
	if env.R != 0 {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := b.pool.QueryRow(c, `SELECT body FROM noba_cluster_payloads WHERE id = $1`, env.R).Scan(&data)
		cancel()
		if err != nil {
			b.log.Warn("cluster message payload unreadable", "channel", env.C, "from", env.F, "err", err)
			return
		}
	}
	m := Message{Channel: env.C, From: env.F, Data: data}
	for _, h := range hs {
		h(m)
	}
}

// janitor deletes the rows of large payloads once every reader had time to
// read them.
func (b *pgBus) janitor(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := b.pool.Exec(c, `DELETE FROM noba_cluster_payloads WHERE created_at < now() - make_interval(secs => $1)`,
				payloadTTL.Seconds())
			cancel()
			if err != nil && !errors.Is(err, context.Canceled) {
				b.log.Warn("cluster payload cleanup", "err", err)
			}
		}
	}
}

// listenerPID is the backend pid of the listening connection (0 before it connects).
func (b *pgBus) listenerPID() uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pid
}
