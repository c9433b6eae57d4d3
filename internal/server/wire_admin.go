package server

import (
	"context"

	"github.com/noba-go/noba/internal/dashboards"
)

// adminRooms holds the rooms of admin remainder, custom dashboards and single sign-on (routers 2, 3, 14). Its owner fills it in and
// wires it in wireAdmin; rooms.go embeds it, so each group of rooms is
// wired in a file of its own.
type adminRooms struct {
	// dashboards (router 14)
	dashboards *dashboards.Room
}

// wireAdmin builds and mounts admin remainder, custom dashboards and single sign-on (routers 2, 3, 14). It runs after the core rooms
// (auth, admin, stats, agents, monitoring, alerts) are built.
func (rs *rooms) wireAdmin(ctx context.Context, s *Server) error {
	_ = ctx
	// dashboards (router 14): custom saved dashboards.
	rs.dashboards = dashboards.New(dashboards.Deps{DB: s.DB, Audit: rs.audit, Log: s.Log.With("room", "dashboards"), Now: s.Opts.Now})
	s.mount(rs.dashboards)
	return nil
}
