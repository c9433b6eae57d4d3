// Package stats serves the live metrics of router 1 (/api/stats, the
// /api/stream SSE fan-out, history, trends, Prometheus exposition, the
// legacy dashboard layout) and the operations views built on the same
// snapshot (/api/system/info, /api/system/health, /api/processes/*,
// /api/disks/prediction). One job collects every interval, publishes the
// snapshot on events.TopicStats and writes its samples; other jobs roll the
// samples up into 1-minute and 1-hour tiers and enforce retention.
package stats
