package stats

import (
	"encoding/json"
	"fmt"
)

// Adopt makes a snapshot collected by the leading replica (replicas,
// issue 19) this replica's latest: /api/stats and the SSE stream serve it
// as if collected here. Nothing is written or published: the leader did
// both.
func (r *Room) Adopt(data []byte) error {
	var snap map[string]any
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("adopt snapshot: %w", err)
	}
	// Its age counts from its arrival: the replicas' clocks may differ.
	f := &frame{snap: snap, typed: Typed(snap), data: data, at: r.now(), next: make(chan struct{})}
	f.event = sseMessage(r.enriched(f, data, 0))
	r.fmu.Lock()
	old := r.cur
	r.cur = f
	r.fmu.Unlock()
	close(old.next)
	return nil
}
