// Package cluster lets several noba replicas share one PostgreSQL database
// (issue 19 part 2): a message Bus between replicas, leadership for the
// jobs that must run once, and the bridge that carries the in-process
// events of one replica to the others.
//
// A single node (SQLite, today's deployment) uses Single: its Bus has no
// peers, so publishing costs nothing, and its Elector always leads. Several
// replicas on PostgreSQL use Open: the Bus is LISTEN/NOTIFY on one channel
// (payloads over the NOTIFY limit go through an unlogged table row named by
// its id), and leadership is a session advisory lock held on a dedicated
// connection. NewHub joins several nodes in one process (tests).
//
// Delivery is at most once and never to the publishing replica itself:
// a message published while a replica's listening connection is down is
// lost to that replica (it reconnects, resubscribes and calls the
// OnReconnect hooks, where a room re-announces its state).
//
// Failover: a replica that is not leading tries the lock every
// ElectorOptions.Retry (default 1 s). When the leader's process dies, its
// connection closes and PostgreSQL releases the lock at once, so another
// replica leads within Retry plus one round trip (about 1 s). A leader
// whose host vanishes without closing the connection is dropped by the
// server after the TCP keepalives set on the lock's connection (5 s idle,
// 3 probes 2 s apart: about 11 s); the leader itself stops leading as soon
// as its check of the connection (every Check, default 1 s, timeout 2 s)
// fails, before the server can hand the lock to another replica.
package cluster
