package cluster

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgElector leads while it holds a session advisory lock on its own
// connection.
type pgElector struct {
	url          string
	key          int64
	retry, check time.Duration
	log          *slog.Logger

	mu      sync.Mutex
	leading bool
	lost    chan struct{} // closed when the current leadership ends
	gained  chan struct{} // closed (and replaced) when leadership starts
	closing atomic.Bool
}

func newPGElector(url string, o Options) *pgElector {
	e := &pgElector{url: url, key: o.LockKey, retry: o.Retry, check: o.Check,
		log: o.Log.With("part", "cluster-leader", "replica", o.ID), gained: make(chan struct{})}
	if e.key == 0 {
		e.key = LeaderKey
	}
	if e.retry <= 0 {
		e.retry = time.Second
	}
	if e.check <= 0 {
		e.check = time.Second
	}
	return e
}

func (e *pgElector) Leading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading
}

func (e *pgElector) Lead(ctx context.Context) (context.Context, context.CancelFunc, error) {
	for {
		e.mu.Lock()
		if e.leading {
			lost := e.lost
			e.mu.Unlock()
			lctx, cancel := context.WithCancel(ctx)
			go func() {
				select {
				case <-lost:
					cancel()
				case <-lctx.Done():
				}
			}()
			return lctx, cancel, nil
		}
		gained := e.gained
		e.mu.Unlock()
		select {
		case <-gained:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

func (e *pgElector) set(leading bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if leading == e.leading {
		return
	}
	e.leading = leading
	if leading {
		e.lost = make(chan struct{})
		close(e.gained)
		e.gained = make(chan struct{})
		e.log.Info("this replica leads: it runs the jobs that must run once")
	} else {
		close(e.lost)
		if e.closing.Load() {
			e.log.Info("this replica stops leading: it is leaving")
		} else {
			e.log.Warn("this replica no longer leads")
		}
	}
}

// run tries the lock until ctx ends; while it holds it, it checks the
// connection every e.check and gives leadership up when the check fails.
func (e *pgElector) run(ctx context.Context) {
	defer func() {
		e.closing.Store(true)
		e.set(false)
	}()
	for ctx.Err() == nil {
		e.session(ctx)
		if ctx.Err() != nil {
			return
		}
		e.set(false)
		select {
		case <-ctx.Done():
		case <-time.After(e.retry):
		}
	}
}

// session holds one connection: it tries the lock every e.retry, and once
// held checks it every e.check; it returns when the connection fails.
func (e *pgElector) session(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, e.url)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("leader election: cannot connect", "err", err)
		}
		return
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// Closing the session releases the lock.
		_ = conn.Close(c)
	}()
	// A leader whose host vanished is dropped by the server after about
	// 11 s (5 s idle, 3 probes 2 s apart), which releases the lock.
	if _, err := conn.Exec(ctx, `SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3`); err != nil {
		e.log.Warn("leader election: keepalives not set", "err", err)
	}
	q := func(sql string, dst any) error {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return conn.QueryRow(c, sql, e.key).Scan(dst)
	}
	for {
		if e.Leading() {
			var n int64
			if err := q(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND ((classid::bigint << 32) | objid::bigint) = $1`, &n); err != nil || n == 0 {
				if ctx.Err() == nil {
					e.log.Warn("leader election: lock connection check failed", "err", err, "held", n)
				}
				return
			}
		} else {
			var ok bool
			if err := q(`SELECT pg_try_advisory_lock($1)`, &ok); err != nil {
				if ctx.Err() == nil {
					e.log.Warn("leader election: lock attempt failed", "err", err)
				}
				return
			}
			if ok {
				e.set(true)
			}
		}
		wait := e.retry
		if e.Leading() {
			wait = e.check
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
