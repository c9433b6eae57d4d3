package automations

import (
	"context"
	"fmt"

	"github.com/noba-go/noba/internal/jobs/runner"
)

// The Go API other rooms reach through interfaces wired in internal/server
// (backups' schedules and progress, healing's automation and run_playbook
// actions): the same rules as the routes, without an HTTP round trip.

// Automation returns a stored automation with its secrets masked, as
// GET /api/automations shows it; httpx.ErrNotFound when there is none.
func (r *Room) Automation(ctx context.Context, id string) (Automation, error) {
	a, err := r.d.Store.Get(ctx, id)
	if err != nil {
		return Automation{}, err
	}
	return view(a), nil
}

// Automations lists the automations of a type ("" for all), secrets
// masked, as GET /api/automations?type= answers.
func (r *Room) Automations(ctx context.Context, typ string) ([]Automation, error) {
	as, err := r.d.Store.List(ctx, typ)
	if err != nil {
		return nil, err
	}
	for i := range as {
		as[i] = view(as[i])
	}
	return as, nil
}

// CreateAutomation creates an automation for the principal of ctx with the
// validation, role check and audit row of POST /api/automations (body has
// the route's fields: name, type, config, schedule, enabled). It returns
// the new id.
func (r *Room) CreateAutomation(ctx context.Context, body map[string]any) (string, error) {
	res, err := r.createAutomation(ctx, &bodyIn{Body: body})
	if err != nil {
		return "", err
	}
	m, _ := res.Body.(map[string]any)
	return fmt.Sprint(m["id"]), nil
}

// Runs lists job runs (newest first) as GET /api/runs does, without output.
func (r *Room) Runs(ctx context.Context, f runner.Filter) ([]runner.Run, error) {
	f.WithOutput = false
	if f.Limit <= 0 {
		f.Limit = 50
	}
	return r.run.Store().List(ctx, f)
}
