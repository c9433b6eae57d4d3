package server

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/noba-go/noba/internal/automations"
	"github.com/noba-go/noba/internal/jobs/runner"
)

// automationsRooms holds the rooms of automations (router 8). Its owner fills it in and
// wires it in wireAutomations; rooms.go embeds it, so each group of rooms is
// wired in a file of its own.
type automationsRooms struct {
	// automations (router 8; the maintenance windows are the alerts room's).
	// Healing reaches the job runner and approvals through it
	// (Runner, RequestApproval, Decide, PendingApprovals, RecordAction,
	// SetRemediator).
	automations *automations.Room
}

// wireAutomations builds and mounts automations (router 8). It runs after the core rooms
// (auth, admin, stats, agents, monitoring, alerts) are built.
func (rs *rooms) wireAutomations(ctx context.Context, s *Server) error {
	envInt := func(k string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
			return v
		}
		return def
	}
	scriptDir := os.Getenv("NOBA_SCRIPT_DIR")
	if scriptDir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			scriptDir = filepath.Join(home, ".local", "libexec", "noba")
		}
	}
	now := s.Opts.Now
	if now == nil {
		now = time.Now
	}
	run := runner.New(runner.NewStore(s.DB), runner.Config{Max: envInt("NOBA_MAX_JOBS", 3),
		Timeout: time.Duration(envInt("NOBA_JOB_TIMEOUT", 300)) * time.Second, Now: now, Log: s.Log.With("room", "runner")})
	room, err := automations.New(ctx, automations.Deps{Store: automations.NewStore(s.DB), Runner: run, Audit: rs.audit,
		Settings: s.Settings, Stats: rs.stats, Agents: rs.agents, Notify: alertNotifier{rs}, Maintenance: rs.alerts,
		Log: s.Log.With("room", "automations"), Now: now, ScriptDir: scriptDir, RetentionDays: envInt("NOBA_JOB_RETENTION_DAYS", 30)})
	if err != nil {
		return err
	}
	rs.automations = room
	s.mount(room)
	s.closers = append(s.closers, func() error {
		room.Close()
		return nil
	})
	return nil
}

// alertNotifier delivers automation notifications as in-app notifications
// of the alerts room (to every user).
type alertNotifier struct{ rs *rooms }

func (n alertNotifier) Notify(ctx context.Context, level, title, message string, _ []string) error {
	if n.rs.alerts == nil {
		return nil
	}
	return n.rs.alerts.AddNotification(ctx, "", level, title, message)
}

// Automations returns the automations room (tests drive its scheduler).
func (s *Server) Automations() *automations.Room {
	if s.rooms == nil {
		return nil
	}
	return s.rooms.automations
}
