package security

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

func (r *Room) audit(ctx context.Context, action, details string) {
	if r.d.Audit != nil {
		r.d.Audit.Record(ctx, action, user(ctx), details, httpx.ClientIP(ctx))
	}
}

func user(ctx context.Context) string {
	if p, ok := authz.From(ctx); ok {
		return p.Username
	}
	return ""
}

type scoreOut struct {
	Body struct {
		Score      *int        `json:"score"`
		AgentCount int         `json:"agent_count"`
		Agents     []HostScore `json:"agents"`
	}
}

func (r *Room) score(ctx context.Context, _ *struct{}) (*scoreOut, error) {
	hs, err := r.d.Store.Latest(ctx)
	if err != nil {
		return nil, err
	}
	out := &scoreOut{}
	out.Body.Score, out.Body.AgentCount, out.Body.Agents = Aggregate(hs), len(hs), hs
	return out, nil
}

type findingsIn struct {
	Hostname string `query:"hostname" doc:"only this host"`
	Severity string `query:"severity" doc:"only this severity (high, medium, low)"`
	Limit    string `query:"limit" doc:"at most this many (default 200, 1-500)"`
}

type findingsOut struct{ Body []StoredFinding }

func (r *Room) findings(ctx context.Context, in *findingsIn) (*findingsOut, error) {
	limit := min(max(httpx.SafeInt(in.Limit, 200), 1), 500)
	fs, err := r.d.Store.Findings(ctx, strings.TrimSpace(in.Hostname), strings.TrimSpace(in.Severity), limit)
	if err != nil {
		return nil, err
	}
	return &findingsOut{Body: fs}, nil
}

type historyIn struct {
	Hostname string `query:"hostname" doc:"only this host"`
	Limit    string `query:"limit" doc:"at most this many (default 50, 1-200)"`
}

type historyOut struct{ Body []HistoryRow }

func (r *Room) history(ctx context.Context, in *historyIn) (*historyOut, error) {
	limit := min(max(httpx.SafeInt(in.Limit, 50), 1), 200)
	hs, err := r.d.Store.History(ctx, strings.TrimSpace(in.Hostname), limit)
	if err != nil {
		return nil, err
	}
	return &historyOut{Body: hs}, nil
}

type scanIn struct {
	Hostname string `path:"hostname"`
}

type scanOut struct {
	Body struct {
		Status   string `json:"status"`
		ID       string `json:"id"`
		Hostname string `json:"hostname"`
	}
}

func (r *Room) scan(ctx context.Context, in *scanIn) (*scanOut, error) {
	p, _ := authz.From(ctx)
	risk, _ := wire.RiskOf(wire.CmdSecurityScan)
	if !wire.Allowed(string(p.Role), risk) {
		return nil, httpx.Forbidden("Insufficient permissions")
	}
	host := strings.TrimSpace(in.Hostname)
	if r.d.Agents == nil || !r.d.Agents.Known(host) {
		return nil, httpx.NotFound("Agent '%s' not found", host)
	}
	id, ws, err := r.d.Agents.Send(ctx, host, wire.CmdSecurityScan, map[string]any{}, p.Username)
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "security_scan", fmt.Sprintf("host=%s id=%s ws=%t", host, id, ws))
	out := &scanOut{}
	out.Body.Status, out.Body.ID, out.Body.Hostname = "queued", id, host
	if ws {
		out.Body.Status = "sent"
	}
	return out, nil
}

type sent struct {
	ID        string `json:"id"`
	WebSocket bool   `json:"websocket"`
}

type scanAllOut struct {
	Body struct {
		Status string          `json:"status"`
		Agents map[string]sent `json:"agents"`
		Count  int             `json:"count"`
	}
}

func (r *Room) scanAll(ctx context.Context, _ *struct{}) (*scanAllOut, error) {
	p, _ := authz.From(ctx)
	out := &scanAllOut{}
	out.Body.Status, out.Body.Agents = "queued", map[string]sent{}
	if r.d.Agents != nil {
		for _, h := range r.d.Agents.Online() {
			id, ws, err := r.d.Agents.Send(ctx, h, wire.CmdSecurityScan, map[string]any{}, p.Username)
			if err != nil {
				r.d.Log.Warn("security scan", "hostname", h, "err", err)
				continue
			}
			out.Body.Agents[h] = sent{ID: id, WebSocket: ws}
		}
	}
	out.Body.Count = len(out.Body.Agents)
	r.audit(ctx, "security_scan_all", fmt.Sprintf("targets=%d", out.Body.Count))
	return out, nil
}

type recordIn struct {
	Body map[string]any
}

type okOut struct {
	Body struct {
		Status string `json:"status"`
	}
}

func (r *Room) record(ctx context.Context, in *recordIn) (*okOut, error) {
	host, _ := in.Body["hostname"].(string)
	host = strings.TrimSpace(host)
	score, isNum := in.Body["score"].(float64)
	if host == "" || !isNum || math.IsNaN(score) {
		return nil, httpx.Invalid("hostname and score are required")
	}
	if !wire.ValidHostname(host) {
		return nil, httpx.Invalid("Invalid hostname")
	}
	var fs []Finding
	switch list := in.Body["findings"].(type) {
	case nil:
	case []any:
		for _, v := range list {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, httpx.Invalid("findings must be a list of objects")
			}
			fs = append(fs, Finding{Severity: str(m["severity"]), Category: str(m["category"]),
				Description: str(m["description"]), Remediation: str(m["remediation"])})
		}
	default:
		return nil, httpx.Invalid("findings must be a list of objects")
	}
	if err := r.Record(ctx, host, int(score), fs); err != nil {
		return nil, err
	}
	out := &okOut{}
	out.Body.Status = "ok"
	return out, nil
}
