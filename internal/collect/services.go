package collect

import (
	"bufio"
	"context"
	"errors"
	"os/exec"
	"regexp"
	"strings"
)

// serviceCollector reports the state of the watched systemd units,
// asking systemctl once per scope (user, then system) for all of them.
type serviceCollector struct{}

func (serviceCollector) name() string { return "services" }

func (serviceCollector) defaults(p map[string]any) { p["services"] = []map[string]any{} }

var unitName = regexp.MustCompile(`^[a-zA-Z0-9_.@-]+$`)

// UnitState is one unit's answer from systemctl show.
type UnitState struct {
	LoadState, ActiveState string
}

// ParseSystemctlShow parses the output of `systemctl show -p
// LoadState,ActiveState u1 u2 ...`: one block per unit, in argument order,
// separated by blank lines.
func ParseSystemctlShow(out string) []UnitState {
	var res []UnitState
	var cur UnitState
	have := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			if have {
				res = append(res, cur)
			}
			cur, have = UnitState{}, false
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		have = true
		switch k {
		case "LoadState":
			cur.LoadState = v
		case "ActiveState":
			cur.ActiveState = v
		}
	}
	if have {
		res = append(res, cur)
	}
	return res
}

// show asks systemctl in one scope; ok=false when systemctl could not
// answer at all (no systemd, no user bus).
func (h *Host) show(ctx context.Context, user bool, units []string) ([]UnitState, bool, error) {
	args := []string{"show", "--no-pager", "-p", "LoadState,ActiveState"}
	if user {
		args = append([]string{"--user"}, args...)
	}
	cmd := exec.CommandContext(ctx, h.opts.Systemctl, append(args, units...)...)
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, false, nil // binary missing
	}
	st := ParseSystemctlShow(string(out))
	if len(st) != len(units) {
		return nil, false, nil
	}
	return st, true, nil
}

func found(s UnitState) bool { return s.LoadState != "" && s.LoadState != "not-found" }

func (serviceCollector) update(ctx context.Context, h *Host, p map[string]any) error {
	names := h.currentTargets().Services
	type res struct {
		status string
		user   bool
	}
	results := make([]res, len(names))
	var valid []int
	for i, n := range names {
		if !unitName.MatchString(n) {
			results[i].status = "invalid"
			continue
		}
		results[i].status = "not-found"
		valid = append(valid, i)
	}
	pending := valid
	var err error
	for _, user := range []bool{true, false} {
		if len(pending) == 0 {
			break
		}
		units := make([]string, len(pending))
		for j, i := range pending {
			units[j] = names[i]
		}
		st, ok, e := h.show(ctx, user, units)
		if e != nil {
			err = e
			for _, i := range pending {
				results[i].status = "error"
			}
			break
		}
		if !ok {
			continue
		}
		var rest, timers []int
		for j, i := range pending {
			if !found(st[j]) {
				rest = append(rest, i)
				continue
			}
			results[i] = res{status: st[j].ActiveState, user: user}
			if st[j].ActiveState == "inactive" && strings.HasSuffix(names[i], ".service") {
				timers = append(timers, i)
			}
		}
		if len(timers) > 0 {
			tu := make([]string, len(timers))
			for j, i := range timers {
				tu[j] = strings.TrimSuffix(names[i], ".service") + ".timer"
			}
			if ts, ok, _ := h.show(ctx, user, tu); ok {
				for j, i := range timers {
					if ts[j].ActiveState == "active" {
						results[i].status = "timer-active"
					}
				}
			}
		}
		pending = rest
	}
	out := make([]map[string]any, 0, len(names))
	for i, n := range names {
		r := results[i]
		out = append(out, map[string]any{"name": n, "status": r.status, "is_user": r.user,
			"active": r.status == "active" || r.status == "timer-active", "user": r.user})
	}
	p["services"] = out
	return err
}
