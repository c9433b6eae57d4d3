package intelligence

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/jobs"
	"github.com/noba-go/noba/internal/wire"
)

// DriftSource is the alert source of drift alerts (rule id
// config_drift:<path>:<host>).
const DriftSource = "config_drift"

// DriftRetention is how long drift check history is kept (the latest row
// of each baseline and host is always kept).
const DriftRetention = 30 * 24 * time.Hour

// AllAgents is the agent group of every online agent.
const AllAgents = "__all__"

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Jobs returns the drift checker and the predictive cycle.
func (r *Room) Jobs() []jobs.Job {
	return []jobs.Job{jobs.Func{JobName: "intelligence.drift", Fn: r.runDrift},
		jobs.Every("intelligence.predictive", PredictiveEvery, func(ctx context.Context) error { _, err := r.PredictiveCycle(ctx); return err })}
}

// runDrift checks first DriftFirst after start, then every DriftEvery,
// and whenever a check is triggered.
func (r *Room) runDrift(ctx context.Context) error {
	first := time.NewTimer(r.d.DriftFirst)
	defer first.Stop()
	tk := time.NewTicker(r.d.DriftEvery)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-first.C:
		case <-tk.C:
		case <-r.trigger:
		}
		c, cancel := context.WithTimeout(ctx, r.d.DriftWait+30*time.Second)
		if err := r.CheckDrift(c); err != nil && ctx.Err() == nil {
			r.d.Log.Warn("drift check failed", "err", err)
		}
		cancel()
	}
}

// Trigger asks the drift checker for a check now (coalesced with one
// already pending).
func (r *Room) Trigger() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// targets are the online agents a baseline applies to: every one for
// __all__, else the hosts of the comma-separated group matched exactly
// ([fix] of the original's substring match).
func targets(group string, online []string) []string {
	if group == AllAgents {
		return online
	}
	var out []string
	for _, g := range strings.Split(group, ",") {
		if g = strings.TrimSpace(g); g != "" && slices.Contains(online, g) && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// CheckDrift prunes old history and runs one drift check: file_checksum on every target of every
// baseline, all at once, waiting up to DriftWait; it records a row per
// (baseline, host) and raises or clears the drift alert.
func (r *Room) CheckDrift(ctx context.Context) error {
	if n, err := r.d.Store.PruneDrift(ctx, r.d.Now().Add(-DriftRetention).Unix()); err != nil {
		return err
	} else if n > 0 {
		r.d.Log.Info("pruned drift checks", "rows", n)
	}
	bs, err := r.d.Store.Baselines(ctx)
	if err != nil || len(bs) == 0 || r.d.Agents == nil {
		return err
	}
	var online []string
	for _, a := range r.d.Agents.List() {
		if a.Online {
			online = append(online, a.Hostname)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, r.d.DriftWait)
	defer cancel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, b := range bs {
		for _, host := range targets(b.AgentGroup, online) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				r.checkOne(ctx, b, host)
			}()
		}
	}
	wg.Wait()
	return nil
}

func (r *Room) checkOne(ctx context.Context, b Baseline, host string) {
	res, err := r.d.Agents.Run(ctx, host, wire.CmdFileChecksum, map[string]any{"path": b.Path, "algorithm": "sha256"}, "drift-check", r.d.DriftWait)
	// The results are written after the wait, with a context of their own.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	row := DriftResult{BaselineID: b.ID, Hostname: host, CheckedAt: r.d.Now().Unix()}
	key := b.Path + ":" + host
	switch {
	case err != nil || res == nil:
		row.Status = "timeout"
	default:
		sum, _ := res["checksum"].(string)
		sum = strings.ToLower(strings.TrimSpace(sum))
		if sum != "" {
			row.ActualHash = &sum
		}
		row.Status = "drift"
		if sum == b.ExpectedHash {
			row.Status = "match"
		}
	}
	// The row is written last: once it is visible, the alert is raised or cleared.
	defer func() {
		if err := r.d.Store.AddDrift(wctx, row); err != nil {
			r.d.Log.Warn("record drift check", "err", err)
		}
	}()
	if r.d.Alerts == nil {
		return
	}
	switch row.Status {
	case "drift":
		got := "missing"
		if row.ActualHash != nil {
			got = first16(*row.ActualHash) + "..."
		} else if e, _ := res["error"].(string); e != "" {
			got = "error: " + e
		}
		msg := fmt.Sprintf("Config drift detected: %s on %s (expected %s..., got %s)", b.Path, host, first16(b.ExpectedHash), got)
		if err := r.d.Alerts.RaiseExternal(wctx, DriftSource, key, "warning", msg); err != nil {
			r.d.Log.Warn("drift alert", "err", err)
		}
	case "match":
		if err := r.d.Alerts.ResolveExternal(wctx, DriftSource, key); err != nil {
			r.d.Log.Warn("drift alert", "err", err)
		}
	}
}

func first16(s string) string {
	if len(s) > 16 {
		return s[:16]
	}
	return s
}

// ---- routes (spec 30 §4.3) ----

type baselineView struct {
	Baseline
	Status     string `json:"status"`
	AgentCount int    `json:"agent_count"`
	DriftCount int    `json:"drift_count"`
}

type baselinesOut struct{ Body []baselineView }

func (r *Room) listBaselines(ctx context.Context, _ *struct{}) (*baselinesOut, error) {
	bs, err := r.d.Store.Baselines(ctx)
	if err != nil {
		return nil, err
	}
	latest, err := r.d.Store.LatestDrift(ctx, 0)
	if err != nil {
		return nil, err
	}
	out := make([]baselineView, 0, len(bs))
	for _, b := range bs {
		v := baselineView{Baseline: b, Status: "pending"}
		for _, d := range latest {
			if d.BaselineID != b.ID {
				continue
			}
			v.AgentCount++
			if d.Status == "drift" {
				v.DriftCount++
			}
		}
		switch {
		case v.DriftCount > 0:
			v.Status = "drift"
		case v.AgentCount > 0:
			v.Status = "match"
		}
		out = append(out, v)
	}
	return &baselinesOut{Body: out}, nil
}

func (r *Room) createBaseline(ctx context.Context, in *bodyIn) (*idOut, error) {
	path := bodyStr(in.Body, "path")
	hash := strings.ToLower(bodyStr(in.Body, "expected_hash"))
	group := bodyStr(in.Body, "agent_group")
	if path == "" {
		return nil, httpx.Invalid("File path is required")
	}
	if !strings.HasPrefix(path, "/") || len(path) > 4096 {
		return nil, httpx.Invalid("File path must be absolute")
	}
	// The agents refuse what the read rules of file_checksum refuse: say so now.
	if err := wire.CheckReadPath(path); err != nil {
		return nil, httpx.Invalid("%s", err.Error())
	}
	if hash == "" {
		return nil, httpx.Invalid("Expected hash is required")
	}
	if !sha256RE.MatchString(hash) {
		return nil, httpx.Invalid("Expected hash must be a SHA-256 hex digest (64 hex characters)")
	}
	if group == "" {
		group = AllAgents
	}
	if group != AllAgents {
		for _, h := range strings.Split(group, ",") {
			if h = strings.TrimSpace(h); h != "" && !wire.ValidHostname(h) {
				return nil, httpx.Invalid("Invalid host '%s' in agent_group", h)
			}
		}
	}
	now := r.d.Now().Unix()
	id, err := r.d.Store.AddBaseline(ctx, Baseline{Path: path, ExpectedHash: hash, AgentGroup: group, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "baseline_create", fmt.Sprintf("id=%d path=%s group=%s", id, path, group))
	out := &idOut{}
	out.Body.Status, out.Body.ID = "ok", id
	return out, nil
}

func (r *Room) deleteBaseline(ctx context.Context, in *idIn) (*okOut, error) {
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	b, err := r.d.Store.Baseline(ctx, id)
	if err != nil {
		return nil, err
	}
	latest, err := r.d.Store.LatestDrift(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := r.d.Store.DeleteBaseline(ctx, id); err != nil {
		return nil, err
	}
	// A deleted baseline leaves no drift alert open.
	if r.d.Alerts != nil {
		for _, d := range latest {
			if err := r.d.Alerts.ResolveExternal(ctx, DriftSource, b.Path+":"+d.Hostname); err != nil {
				r.d.Log.Warn("drift alert", "err", err)
			}
		}
	}
	r.audit(ctx, "baseline_delete", fmt.Sprintf("id=%d", id))
	return ok(), nil
}

type setFromIn struct {
	ID       string `path:"id"`
	Hostname string `path:"hostname"`
}

type setFromOut struct {
	Body struct {
		Status       string `json:"status"`
		ExpectedHash string `json:"expected_hash"`
	}
}

func (r *Room) setFromAgent(ctx context.Context, in *setFromIn) (*setFromOut, error) {
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	b, err := r.d.Store.Baseline(ctx, id)
	if err != nil {
		return nil, err
	}
	host := strings.TrimSpace(in.Hostname)
	if !r.known(host) {
		return nil, httpx.NotFound("Agent '%s' not found", host)
	}
	res, err := r.d.Agents.Run(ctx, host, wire.CmdFileChecksum, map[string]any{"path": b.Path, "algorithm": "sha256"}, user(ctx), r.d.SetFromWait)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, httpx.NewBody(http.StatusGatewayTimeout, "Agent did not respond in time")
	}
	if s, _ := res["status"].(string); s != "ok" {
		msg, _ := res["error"].(string)
		if msg == "" {
			msg = "Agent error"
		}
		return nil, httpx.BadGateway("%s", msg)
	}
	sum, _ := res["checksum"].(string)
	sum = strings.ToLower(strings.TrimSpace(sum))
	if sum == "" {
		return nil, httpx.BadGateway("Agent returned empty checksum")
	}
	if err := r.d.Store.SetExpected(ctx, id, sum, r.d.Now().Unix()); err != nil {
		return nil, err
	}
	r.audit(ctx, "baseline_set_from_agent", fmt.Sprintf("id=%d host=%s hash=%s...", id, host, first16(sum)))
	out := &setFromOut{}
	out.Body.Status, out.Body.ExpectedHash = "ok", sum
	return out, nil
}

type checkOut struct {
	Body struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}
}

func (r *Room) triggerCheck(ctx context.Context, _ *struct{}) (*checkOut, error) {
	r.Trigger()
	r.audit(ctx, "drift_check_trigger", "manual")
	out := &checkOut{}
	out.Body.Status, out.Body.Message = "ok", "Drift check started"
	return out, nil
}

type resultsOut struct {
	Body struct {
		Baseline Baseline      `json:"baseline"`
		Results  []DriftResult `json:"results"`
	}
}

func (r *Room) baselineResults(ctx context.Context, in *idIn) (*resultsOut, error) {
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	b, err := r.d.Store.Baseline(ctx, id)
	if err != nil {
		return nil, err
	}
	rs, err := r.d.Store.LatestDrift(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &resultsOut{}
	out.Body.Baseline, out.Body.Results = b, rs
	return out, nil
}
