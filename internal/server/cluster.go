package server

import (
	"context"
	"fmt"

	"github.com/noba-go/noba/internal/cluster"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/jobs"
)

// Replicas (issue 19 part 2). A server joins the cluster of the replicas
// sharing its PostgreSQL database (cluster.Open), or is a single node
// (cluster.Single: no peers, always leads, nothing published). With peers:
//   - the jobs that must run once (every job but perReplicaJobs) run only
//     on the leading replica, and move to another when it dies;
//   - the leader's stats snapshots are shown by every replica's /api/stats
//     and SSE stream, and alert events reach every replica's bus;
//   - the agents room forwards commands to the replica holding the agent's
//     WebSocket and shares results, reports and presence (agents/cluster.go);
//   - the auth room shares session revocations and login failures.

// perReplicaJobs tend this replica's own memory or files; every other job
// runs on the leader only.
var perReplicaJobs = map[string]bool{
	"agents-queue-sweep":      true, // this replica's queues
	"agents-transfer-cleanup": true, // this replica's transfer files
	"agents-registry-write":   true, // the reports this replica received
	"agents-registry-flush":   true,
	"agents-presence":         true, // the WebSockets this replica holds
	"auth-purge":              true, // this replica's session cache
	"alerts-notify":           true, // fed by the evaluator (leader only)
	"config-snapshot":         true, // this replica's settings file
	"healing-watchdog":        true,
}

// openCluster sets s.Cluster: the node given by WithCluster, else the
// replicas sharing the PostgreSQL database (NOBA_DATABASE_URL, or
// ClusterURL), else a single node (SQLite).
func (s *Server) openCluster(ctx context.Context) error {
	url := s.Opts.ClusterURL
	if url == "" {
		url = s.Cfg.DatabaseURL
	}
	switch {
	case s.Opts.Cluster != nil:
		s.Cluster = s.Opts.Cluster
	case url != "":
		n, err := cluster.Open(ctx, url, cluster.Options{ID: s.Cfg.ReplicaID, Log: s.Log})
		if err != nil {
			return fmt.Errorf("join replicas: %w", err)
		}
		s.Cluster = n
		s.Log.Info("replica joined the cluster", "replica", n.ID())
	default:
		s.Cluster = cluster.Single(s.Cfg.ReplicaID)
	}
	s.closers = append(s.closers, s.Cluster.Close)
	return nil
}

// clusterJobs puts the leader-only jobs behind the election and adds the
// events bridge; a single node keeps its jobs as they are.
func (s *Server) clusterJobs() {
	if !s.Cluster.Bus.Peers() {
		return
	}
	r := jobs.NewRunner(s.Log)
	for _, j := range s.Jobs.Jobs() {
		if t, ok := j.(*jobs.Ticker); ok && t.Log == nil {
			t.Log = s.Log
		}
		if !perReplicaJobs[j.Name()] {
			j = cluster.LeaderJob(s.Cluster.Elector, j)
		}
		r.Add(j)
	}
	r.Add(jobs.Func{JobName: "cluster-bridge", Fn: func(ctx context.Context) error {
		topics := []cluster.Topic{{Name: "alerts.event"}}
		if s.rooms != nil && s.rooms.stats != nil {
			st := s.rooms.stats
			topics = append(topics, cluster.Topic{Name: events.TopicStats, LeaderOnly: true, Deliver: func(data []byte) {
				if err := st.Adopt(data); err != nil {
					s.Log.Warn("leader snapshot not adopted", "err", err)
				}
			}})
		}
		cluster.Bridge(ctx, s.Cluster, s.Bus, s.Log.With("part", "cluster-bridge"), topics...)
		return nil
	}})
	s.Jobs = r
}

// WithCluster makes the server a node of an existing cluster (tests join
// several servers through one cluster.Hub); the server closes it.
func WithCluster(n *cluster.Node) Option { return func(o *Options) { o.Cluster = n } }

// WithClusterURL makes the server a replica of those meeting through the
// PostgreSQL database at url (by default the server's own database when
// NOBA_DATABASE_URL names one).
func WithClusterURL(url string) Option { return func(o *Options) { o.ClusterURL = url } }
