package alerts

import "context"

// RecentSLA gives, for the distinct rule ids among the newest rows of
// alert history, each rule's SLA percentage over the window (the
// monitoring room's health score "uptime").
func (r *Room) RecentSLA(ctx context.Context, rows, windowHours int) (map[string]float64, error) {
	hist, err := r.d.Store.History(ctx, HistoryQuery{Limit: max(rows, 1)})
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, h := range hist {
		if _, seen := out[h.RuleID]; seen {
			continue
		}
		if out[h.RuleID], err = r.SLA(ctx, h.RuleID, windowHours); err != nil {
			return nil, err
		}
	}
	return out, nil
}
