package server

import (
	"context"
	"path/filepath"

	"github.com/noba-go/noba/internal/instances"
	"github.com/noba-go/noba/internal/integrations"
)

// integrationsRooms holds the rooms of integrations and integration instances (routers 9, 10). Its owner fills it in and
// wires it in wireIntegrations; rooms.go embeds it, so each group of rooms is
// wired in a file of its own.
type integrationsRooms struct {
	// instances (router 10): integration instances, catalog, groups
	instances *instances.Room
}

// wireIntegrations builds and mounts integrations and integration instances (routers 9, 10). It runs after the core rooms
// (auth, admin, stats, agents, monitoring, alerts) are built.
func (rs *rooms) wireIntegrations(ctx context.Context, s *Server) error {
	_ = ctx
	// integrations (router 9): rs.integrations is built in rooms.go for the
	// stats payload; its routes and audit rows are wired here.
	rs.integrations.SetAuditor(rs.audit)
	s.mount(rs.integrations)

	// instances (router 10): credentials sealed at rest with a key of their own in the data directory
	key := instances.NewKeyFile(filepath.Join(s.Cfg.DataDir, ".instances.key"))
	rs.instances = instances.New(instances.Deps{Store: instances.NewStore(s.DB, key), Audit: rs.audit,
		Log: s.Log.With("room", "instances"), Now: s.Opts.Now})
	s.mount(rs.instances)
	// the live stats poll the enabled instances under "instances" (spec 30 §3.1)
	rs.integrations.SetInstances(func(ctx context.Context) ([]integrations.Instance, error) {
		list, err := rs.instances.Enabled(ctx, "")
		out := make([]integrations.Instance, 0, len(list))
		for _, in := range list {
			out = append(out, integrations.Instance{ID: in.ID, Platform: in.Platform, URL: in.URL, Auth: in.AuthConfig,
				VerifySSL: in.VerifySSL})
		}
		return out, err
	})
	return nil
}
