package agents

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/httpx"
)

// Store is the room's persistence.
type Store interface {
	// UpsertAgent writes a host's registry row (first_seen kept).
	UpsertAgent(ctx context.Context, r RegistryRow) error
	// UpsertAgents writes several registry rows in one transaction.
	UpsertAgents(ctx context.Context, rows []RegistryRow) error
	// ListAgents returns every registry row, by hostname.
	ListAgents(ctx context.Context) ([]RegistryRow, error)
	// DeleteAgent removes a host's registry row.
	DeleteAgent(ctx context.Context, hostname string) error
	// InsertCommand records a queued command (insert-or-ignore).
	InsertCommand(ctx context.Context, c HistoryRow) error
	// CompleteCommand stores the result and final status of a command sent
	// to hostname (a host cannot complete another host's command).
	CompleteCommand(ctx context.Context, hostname, id, status string, result []byte, finished int64) error
	// ExpireCommands marks still-queued or delivered commands expired.
	ExpireCommands(ctx context.Context, ids []string) error
	// MarkDelivered moves queued commands to "sent" (handed to the agent,
	// result awaited).
	MarkDelivered(ctx context.Context, ids []string) error
	// OpenCommands lists the commands still queued or sent, oldest first
	// (the queue survives a restart).
	OpenCommands(ctx context.Context) ([]HistoryRow, error)
	// ExpireSentBefore marks commands sent before a time (unix seconds)
	// and never answered expired.
	ExpireSentBefore(ctx context.Context, before int64) (int64, error)
	// CommandHistory lists commands newest first (one host, or all for "").
	CommandHistory(ctx context.Context, hostname string, limit int) ([]HistoryRow, error)
	// UpsertCapabilities stores a host's capability manifest.
	UpsertCapabilities(ctx context.Context, hostname string, manifest []byte, probed int64, degraded []byte) error
	// Capabilities returns a host's manifest, httpx.ErrNotFound when absent.
	Capabilities(ctx context.Context, hostname string) (manifest []byte, probed int64, err error)
}

// RegistryRow is one row of agent_registry.
type RegistryRow struct {
	Hostname, IP, Platform, Arch, AgentVersion string
	FirstSeen, LastSeen                        int64
}

// HistoryRow is one row of agent_command_history.
type HistoryRow struct {
	ID         string          `json:"id"`
	Hostname   string          `json:"hostname"`
	CmdType    string          `json:"cmd_type"`
	Params     json.RawMessage `json:"params"`
	QueuedBy   string          `json:"queued_by"`
	QueuedAt   int64           `json:"queued_at"`
	Status     string          `json:"status"`
	Result     json.RawMessage `json:"result"`
	FinishedAt *int64          `json:"finished_at"`
}

type sqlStore struct{ d *db.DB }

// NewStore returns the SQL store of the room.
func NewStore(d *db.DB) Store { return &sqlStore{d: d} }

func (s *sqlStore) UpsertAgent(ctx context.Context, r RegistryRow) error {
	_, err := s.d.W.ExecContext(ctx, `INSERT INTO agent_registry (hostname, ip, platform, arch, agent_version, first_seen, last_seen)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(hostname) DO UPDATE SET ip = excluded.ip, platform = excluded.platform, arch = excluded.arch,
  agent_version = excluded.agent_version, last_seen = excluded.last_seen`,
		r.Hostname, r.IP, r.Platform, r.Arch, r.AgentVersion, r.FirstSeen, r.LastSeen)
	if err != nil {
		return fmt.Errorf("upsert agent %s: %w", r.Hostname, err)
	}
	return nil
}

func (s *sqlStore) UpsertAgents(ctx context.Context, rows []RegistryRow) error {
	return s.d.Tx(ctx, func(tx *sql.Tx) error {
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, `INSERT INTO agent_registry (hostname, ip, platform, arch, agent_version, first_seen, last_seen)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(hostname) DO UPDATE SET ip = excluded.ip, platform = excluded.platform, arch = excluded.arch,
  agent_version = excluded.agent_version, last_seen = excluded.last_seen`,
				r.Hostname, r.IP, r.Platform, r.Arch, r.AgentVersion, r.FirstSeen, r.LastSeen); err != nil {
				return fmt.Errorf("upsert agent %s: %w", r.Hostname, err)
			}
		}
		return nil
	})
}

func (s *sqlStore) ListAgents(ctx context.Context) ([]RegistryRow, error) {
	rows, err := s.d.R.QueryContext(ctx, `SELECT hostname, ip, platform, arch, agent_version, first_seen, last_seen FROM agent_registry ORDER BY hostname`)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	defer rows.Close()
	var out []RegistryRow
	for rows.Next() {
		var r RegistryRow
		if err := rows.Scan(&r.Hostname, &r.IP, &r.Platform, &r.Arch, &r.AgentVersion, &r.FirstSeen, &r.LastSeen); err != nil {
			return nil, fmt.Errorf("list agents: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *sqlStore) DeleteAgent(ctx context.Context, hostname string) error {
	if _, err := s.d.W.ExecContext(ctx, `DELETE FROM agent_registry WHERE hostname = ?`, hostname); err != nil {
		return fmt.Errorf("delete agent %s: %w", hostname, err)
	}
	return nil
}

func (s *sqlStore) InsertCommand(ctx context.Context, c HistoryRow) error {
	params := c.Params
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	_, err := s.d.W.ExecContext(ctx, `INSERT INTO agent_command_history (id, hostname, cmd_type, params, queued_by, queued_at, status)
VALUES (?, ?, ?, ?, ?, ?, ?)`+s.d.SQL().Ignore(), c.ID, c.Hostname, c.CmdType, string(params), c.QueuedBy, c.QueuedAt, "queued")
	if err != nil {
		return fmt.Errorf("insert command %s: %w", c.ID, err)
	}
	return nil
}

func (s *sqlStore) CompleteCommand(ctx context.Context, hostname, id, status string, result []byte, finished int64) error {
	_, err := s.d.W.ExecContext(ctx, `UPDATE agent_command_history SET status = ?, result = ?, finished_at = ? WHERE id = ? AND hostname = ?`,
		status, string(result), finished, id, hostname)
	if err != nil {
		return fmt.Errorf("complete command %s: %w", id, err)
	}
	return nil
}

func (s *sqlStore) ExpireCommands(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.d.Tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE agent_command_history SET status = 'expired' WHERE id = ? AND status IN ('queued', 'sent')`, id); err != nil {
				return fmt.Errorf("expire command %s: %w", id, err)
			}
		}
		return nil
	})
}

func (s *sqlStore) MarkDelivered(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.d.Tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE agent_command_history SET status = 'sent' WHERE id = ? AND status = 'queued'`, id); err != nil {
				return fmt.Errorf("mark delivered %s: %w", id, err)
			}
		}
		return nil
	})
}

func (s *sqlStore) OpenCommands(ctx context.Context) ([]HistoryRow, error) {
	rows, err := s.d.R.QueryContext(ctx, `SELECT id, hostname, cmd_type, params, queued_by, queued_at, status FROM agent_command_history
WHERE status IN ('queued', 'sent') ORDER BY queued_at, rowid`)
	if err != nil {
		return nil, fmt.Errorf("open commands: %w", err)
	}
	defer rows.Close()
	var out []HistoryRow
	for rows.Next() {
		var r HistoryRow
		var params string
		if err := rows.Scan(&r.ID, &r.Hostname, &r.CmdType, &params, &r.QueuedBy, &r.QueuedAt, &r.Status); err != nil {
			return nil, fmt.Errorf("open commands: %w", err)
		}
		r.Params = jsonOr(params, "{}")
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *sqlStore) ExpireSentBefore(ctx context.Context, before int64) (int64, error) {
	res, err := s.d.W.ExecContext(ctx, `UPDATE agent_command_history SET status = 'expired' WHERE status = 'sent' AND queued_at < ?`, before)
	if err != nil {
		return 0, fmt.Errorf("expire sent commands: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (s *sqlStore) CommandHistory(ctx context.Context, hostname string, limit int) ([]HistoryRow, error) {
	q := `SELECT id, hostname, cmd_type, params, queued_by, queued_at, status, result, finished_at FROM agent_command_history`
	args := []any{}
	if hostname != "" {
		q += ` WHERE hostname = ?`
		args = append(args, hostname)
	}
	q += ` ORDER BY queued_at DESC, rowid DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.d.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("command history: %w", err)
	}
	defer rows.Close()
	out := []HistoryRow{}
	for rows.Next() {
		var r HistoryRow
		var params string
		var result sql.NullString
		var fin sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Hostname, &r.CmdType, &params, &r.QueuedBy, &r.QueuedAt, &r.Status, &result, &fin); err != nil {
			return nil, fmt.Errorf("command history: %w", err)
		}
		r.Params = jsonOr(params, "{}")
		r.Result = jsonOr(result.String, "null")
		if fin.Valid {
			v := fin.Int64
			r.FinishedAt = &v
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func jsonOr(s, def string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage(def)
	}
	return json.RawMessage(s)
}

func (s *sqlStore) UpsertCapabilities(ctx context.Context, hostname string, manifest []byte, probed int64, degraded []byte) error {
	_, err := s.d.W.ExecContext(ctx, `INSERT INTO capability_manifests (hostname, manifest, probed_at, degraded_capabilities)
VALUES (?, ?, ?, ?) ON CONFLICT(hostname) DO UPDATE SET manifest = excluded.manifest, probed_at = excluded.probed_at,
  degraded_capabilities = excluded.degraded_capabilities`, hostname, string(manifest), probed, string(degraded))
	if err != nil {
		return fmt.Errorf("upsert capabilities %s: %w", hostname, err)
	}
	return nil
}

func (s *sqlStore) Capabilities(ctx context.Context, hostname string) ([]byte, int64, error) {
	var m string
	var probed int64
	err := s.d.R.QueryRowContext(ctx, `SELECT manifest, probed_at FROM capability_manifests WHERE hostname = ?`, hostname).Scan(&m, &probed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, httpx.NotFound("No capability manifest for %s", hostname)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("capabilities %s: %w", hostname, err)
	}
	return []byte(m), probed, nil
}
