package admin

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// auditQueue bounds the entries waiting for the writer.
	auditQueue = 8192
	// auditBatch bounds the entries of one transaction.
	auditBatch = 256
	// recordWait is how long Record waits for its entry's commit.
	recordWait = 2 * time.Second
	// writeTimeout bounds one batch write (waiting for the write
	// connection included); a failed batch is tried again.
	writeTimeout = 30 * time.Second
	writeTries   = 3
)

// batchStore is a Store that writes many entries in one transaction.
type batchStore interface {
	AddAudits(ctx context.Context, es []Entry) error
}

type pendingEntry struct {
	e    Entry
	done chan struct{} // closed once written (or given up)
}

// auditWriter is the single writer of the audit table.
type auditWriter struct {
	store Store
	log   *slog.Logger
	q     chan pendingEntry

	startOnce sync.Once
	mu        sync.RWMutex // held for reading while sending to q; close takes it for writing
	closed    bool
	stop      chan struct{}
	done      chan struct{}

	dropMu       sync.Mutex
	dropped      map[string]int64 // per action, not yet reported
	droppedTotal atomic.Int64
}

func newAuditWriter(store Store, log *slog.Logger, queue int) *auditWriter {
	return &auditWriter{store: store, log: log, q: make(chan pendingEntry, queue), stop: make(chan struct{}), done: make(chan struct{}),
		dropped: map[string]int64{}}
}

// add queues e and waits up to wait for its commit. A full queue drops
// it, counted; after close it is written at once.
func (w *auditWriter) add(e Entry, wait time.Duration) {
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		w.write([]Entry{e})
		return
	}
	w.startOnce.Do(func() { go w.run() })
	p := pendingEntry{e: e, done: make(chan struct{})}
	select {
	case w.q <- p:
	default:
		w.mu.RUnlock()
		w.drop(e.Action, 1)
		return
	}
	w.mu.RUnlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C: // still queued: written later
	}
}

func (w *auditWriter) drop(action string, n int64) {
	w.dropMu.Lock()
	w.dropped[action] += n
	w.dropMu.Unlock()
	w.droppedTotal.Add(n)
	w.log.Warn("audit queue full: entry dropped (counted in the next audit_dropped entry)", "action", action)
}

// dropReport returns the audit_dropped entry of the drops not yet
// reported, if any.
func (w *auditWriter) dropReport() (Entry, bool) {
	w.dropMu.Lock()
	defer w.dropMu.Unlock()
	if len(w.dropped) == 0 {
		return Entry{}, false
	}
	var total int64
	parts := make([]string, 0, len(w.dropped))
	for _, k := range slices.Sorted(maps.Keys(w.dropped)) {
		total += w.dropped[k]
		parts = append(parts, fmt.Sprintf("%s=%d", k, w.dropped[k]))
	}
	clear(w.dropped)
	return Entry{Time: time.Now().Unix(), Username: "system", Action: "audit_dropped",
		Details: fmt.Sprintf("%d audit entries dropped while the audit queue was full: %s", total, strings.Join(parts, ", "))}, true
}

func (w *auditWriter) run() {
	defer close(w.done)
	for {
		select {
		case p := <-w.q:
			w.flush(p)
		case <-w.stop:
			for {
				select {
				case p := <-w.q:
					w.flush(p)
				default:
					return
				}
			}
		}
	}
}

// flush writes first and whatever else is queued, up to a batch.
func (w *auditWriter) flush(first pendingEntry) {
	batch := []pendingEntry{first}
	for len(batch) < auditBatch {
		select {
		case p := <-w.q:
			batch = append(batch, p)
			continue
		default:
		}
		break
	}
	es := make([]Entry, 0, len(batch)+1)
	for _, p := range batch {
		es = append(es, p.e)
	}
	if d, ok := w.dropReport(); ok {
		es = append(es, d)
	}
	if !w.write(es) {
		// Given up: the entries are counted, and reported with a later batch.
		for _, e := range es {
			if e.Action != "audit_dropped" {
				w.drop(e.Action, 1)
			} else {
				w.log.Error("audit_dropped entry lost", "details", e.Details)
			}
		}
	}
	for _, p := range batch {
		close(p.done)
	}
}

// write stores es (in one transaction when the store can), trying again
// on failure; it reports whether they were written.
func (w *auditWriter) write(es []Entry) bool {
	var err error
	for try := range writeTries {
		if try > 0 {
			time.Sleep(time.Duration(try) * 200 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		if bs, ok := w.store.(batchStore); ok {
			err = bs.AddAudits(ctx, es)
		} else {
			err = nil
			for i, e := range es {
				if err = w.store.AddAudit(ctx, e); err != nil {
					es = es[i:]
					break
				}
			}
		}
		cancel()
		if err == nil {
			return true
		}
	}
	w.log.Error("audit write failed", "entries", len(es), "err", err)
	return false
}

// close writes what is queued and stops the writer.
func (w *auditWriter) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	started := true
	w.startOnce.Do(func() { started = false })
	if !started {
		return
	}
	close(w.stop)
	<-w.done
}
