package dashboards

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/noba-go/noba/internal/db"
)

// Dashboard is one saved custom dashboard.
type Dashboard struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Owner      string `json:"owner"`
	ConfigJSON string `json:"config_json"`
	Shared     bool   `json:"shared"`
	CreatedAt  int64  `json:"created_at"`
	UpdatedAt  int64  `json:"updated_at"`
}

var errNotFound = errors.New("dashboard not found")

type store struct{ db *db.DB }

func (s *store) list(ctx context.Context, user string) ([]Dashboard, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, name, owner, config_json, shared, created_at, updated_at
		FROM custom_dashboards WHERE owner = ? OR shared = 1 ORDER BY name, id`, user)
	if err != nil {
		return nil, fmt.Errorf("list dashboards: %w", err)
	}
	defer rows.Close()
	out := []Dashboard{}
	for rows.Next() {
		var d Dashboard
		var shared int
		if err := rows.Scan(&d.ID, &d.Name, &d.Owner, &d.ConfigJSON, &shared, &d.CreatedAt, &d.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan dashboard: %w", err)
		}
		d.Shared = shared != 0
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *store) get(ctx context.Context, id int64) (Dashboard, error) {
	var d Dashboard
	var shared int
	err := s.db.R.QueryRowContext(ctx, `SELECT id, name, owner, config_json, shared, created_at, updated_at
		FROM custom_dashboards WHERE id = ?`, id).Scan(&d.ID, &d.Name, &d.Owner, &d.ConfigJSON, &shared, &d.CreatedAt, &d.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return d, errNotFound
	}
	if err != nil {
		return d, fmt.Errorf("get dashboard %d: %w", id, err)
	}
	d.Shared = shared != 0
	return d, nil
}

func (s *store) create(ctx context.Context, d Dashboard) (int64, error) {
	var newID int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO custom_dashboards (name, owner, config_json, shared, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, d.Name, d.Owner, d.ConfigJSON, boolInt(d.Shared), d.CreatedAt, d.UpdatedAt).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("create dashboard: %w", err)
	}
	return newID, nil
}

// update sets the given columns (name, config_json, shared) and updated_at.
func (s *store) update(ctx context.Context, id int64, cols map[string]any, now int64) (bool, error) {
	if len(cols) == 0 {
		return false, nil
	}
	var set []string
	var args []any
	for _, k := range []string{"name", "config_json", "shared"} {
		if v, ok := cols[k]; ok {
			set = append(set, k+" = ?")
			args = append(args, v)
		}
	}
	args = append(args, now, id)
	res, err := s.db.W.ExecContext(ctx, `UPDATE custom_dashboards SET `+strings.Join(set, ", ")+`, updated_at = ? WHERE id = ?`, args...)
	if err != nil {
		return false, fmt.Errorf("update dashboard %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (s *store) delete(ctx context.Context, id int64) (bool, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM custom_dashboards WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("delete dashboard %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
