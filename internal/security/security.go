package security

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"time"
)

// Agents is what the room needs of the agents room.
type Agents interface {
	// Send queues a command (WebSocket first, else the HTTP queue).
	Send(ctx context.Context, host, cmd string, params map[string]any, by string) (id string, ws bool, err error)
	// Online lists the online agents, sorted.
	Online() []string
	// Known reports whether an agent of that name ever reported.
	Known(host string) bool
}

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Deps are what the room is built from.
type Deps struct {
	Store  Store
	Agents Agents
	Audit  Auditor
	Log    *slog.Logger
	Now    func() time.Time
}

// Room is the security room.
type Room struct{ d Deps }

// New builds the room.
func New(d Deps) *Room {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Room{d: d}
}

// Finding is one finding of a scan.
type Finding struct {
	Severity    string `json:"severity"`
	Category    string `json:"category"`
	Description string `json:"description"`
	Remediation string `json:"remediation"`
}

// StoredFinding is a finding row.
type StoredFinding struct {
	ID          int64  `json:"id"`
	Hostname    string `json:"hostname"`
	Category    string `json:"category"`
	Severity    string `json:"severity"`
	Description string `json:"description"`
	Remediation string `json:"remediation"`
	Score       int    `json:"score"`
	FoundAt     int64  `json:"found_at"`
	ResolvedAt  *int64 `json:"resolved_at"`
}

// HostScore is a host's latest scan.
type HostScore struct {
	Hostname  string    `json:"hostname"`
	Score     int       `json:"score"`
	ScannedAt int64     `json:"scanned_at"`
	Findings  []Finding `json:"findings"`
}

// HistoryRow is one scan of the history.
type HistoryRow struct {
	Hostname  string `json:"hostname"`
	Score     int    `json:"score"`
	ScannedAt int64  `json:"scanned_at"`
}

// Score is the agent-side score formula (spec 30 §5.1): 100 minus
// min(20·high, 60) + min(10·medium, 30) + min(5·low, 15), at least 0.
// Severities other than high and medium count as low.
func Score(fs []Finding) int {
	var h, m, l int
	for _, f := range fs {
		switch f.Severity {
		case "high":
			h++
		case "medium":
			m++
		default:
			l++
		}
	}
	return max(0, 100-(min(20*h, 60)+min(10*m, 30)+min(5*l, 15)))
}

// Aggregate is the rounded mean of the hosts' latest scores (half away
// from zero, not the original's half-to-even); nil without scans.
func Aggregate(hs []HostScore) *int {
	if len(hs) == 0 {
		return nil
	}
	var sum float64
	for _, h := range hs {
		sum += float64(h.Score)
	}
	v := int(math.Round(sum / float64(len(hs))))
	return &v
}

// normalize trims a finding and maps unknown severities to low.
func normalize(f Finding) Finding {
	f.Severity = strings.ToLower(strings.TrimSpace(f.Severity))
	switch f.Severity {
	case "high", "medium", "low":
	default:
		f.Severity = "low"
	}
	f.Category = clip(strings.TrimSpace(f.Category), 64)
	f.Description = clip(strings.TrimSpace(f.Description), 1024)
	f.Remediation = clip(strings.TrimSpace(f.Remediation), 1024)
	return f
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// maxFindings bounds the findings recorded per scan.
const maxFindings = 500

// Record stores a scan of host (score row plus the host's replaced findings).
func (r *Room) Record(ctx context.Context, host string, score int, fs []Finding) error {
	if len(fs) > maxFindings {
		fs = fs[:maxFindings]
	}
	clean := make([]Finding, 0, len(fs))
	for _, f := range fs {
		clean = append(clean, normalize(f))
	}
	return r.d.Store.Record(ctx, host, min(max(score, 0), 100), clean, r.d.Now().Unix())
}

// OnScanResult records a security_scan command result an agent sent back
// (status "ok" only). The agents room calls it for every such result.
func (r *Room) OnScanResult(ctx context.Context, host string, res map[string]any) {
	if s, _ := res["status"].(string); s != "ok" {
		return
	}
	var fs []Finding
	if list, ok := res["findings"].([]any); ok {
		for _, v := range list {
			if m, ok := v.(map[string]any); ok {
				fs = append(fs, Finding{Severity: str(m["severity"]), Category: str(m["category"]),
					Description: str(m["description"]), Remediation: str(m["remediation"])})
			}
		}
	}
	score, ok := res["score"].(float64)
	if !ok {
		score = float64(Score(fs))
	}
	if err := r.Record(ctx, host, int(score), fs); err != nil {
		r.d.Log.Error("record security scan", "hostname", host, "err", err)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
