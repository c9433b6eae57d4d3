package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
)

// Elector decides which replica runs the jobs that must run once.
type Elector interface {
	// Lead blocks until this replica leads (or ctx ends, returning its
	// error). The returned context ends when leadership is lost or ctx
	// ends; call cancel when done with it.
	Lead(ctx context.Context) (lctx context.Context, cancel context.CancelFunc, err error)
	// Leading reports whether this replica leads now.
	Leading() bool
}

// Node is this replica's membership of the cluster.
type Node struct {
	Bus     Bus
	Elector Elector
	close   func() error
}

// ID is the replica's id.
func (n *Node) ID() string { return n.Bus.ID() }

// Close leaves the cluster: leadership is released, the bus stops.
func (n *Node) Close() error {
	if n.close == nil {
		return nil
	}
	f := n.close
	n.close = nil
	return f()
}

// ReplicaID returns configured when set (NOBA_REPLICA_ID), else the host
// name with a random suffix, unique per process.
func ReplicaID(configured string) string {
	if s := strings.TrimSpace(configured); s != "" {
		return s
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "noba"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return h + "-" + hex.EncodeToString(b[:])
}

// Single is the node of a server without replicas (SQLite): a bus without
// peers and an elector that always leads.
func Single(id string) *Node {
	h := NewHub()
	h.single = true
	return h.Join(ReplicaID(id))
}
