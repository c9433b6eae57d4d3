// Package influx runs queries against InfluxDB: Flux through the v2 API
// (POST /api/v2/query, annotated CSV answer) and SQL/InfluxQL through the v3
// API (POST /api/v3/query_sql, JSON answer). Answers are bounded to MaxRows
// rows and MaxBody bytes; the token stays in the Authorization header.
package influx

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// MaxRows bounds the rows of one answer; MaxBody its bytes.
const (
	MaxRows = 1000
	MaxBody = 8 << 20
)

// ErrNoFlux means the server has no Flux endpoint (InfluxDB v3).
var ErrNoFlux = errors.New("InfluxDB v3 does not support Flux — migrate query to SQL or InfluxQL")

// IsFlux reports whether q is a Flux query: it starts with from( or pipes with |>.
func IsFlux(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n")
	return strings.HasPrefix(q, "from(") || strings.Contains(q, "|>")
}

// Query runs q on the server at base with token (org for Flux) and returns its rows.
func Query(ctx context.Context, c *provider.Client, base, token, org, q string) ([]map[string]any, error) {
	if IsFlux(q) {
		return flux(ctx, c, base, token, org, q)
	}
	return sql(ctx, c, base, token, q)
}

func flux(ctx context.Context, c *provider.Client, base, token, org, q string) ([]map[string]any, error) {
	data, err := c.Do(ctx, provider.Request{Method: http.MethodPost, URL: base + "/api/v2/query?org=" + url.QueryEscape(org),
		Body: []byte(q), MaxBody: MaxBody, Header: http.Header{
			"Authorization": {"Token " + token}, "Content-Type": {"application/vnd.flux"}, "Accept": {"application/csv"}}})
	if provider.HasStatus(err, http.StatusNotFound, http.StatusNotImplemented) {
		return nil, ErrNoFlux
	}
	if err != nil {
		return nil, err
	}
	return ParseCSV(data)
}

// ParseCSV turns Flux's CSV answer into rows of column -> string value. Each
// table may start with its own header row (first cell empty, second
// "result"); annotation rows (#datatype...) and the result/table columns
// are left out; at most MaxRows rows are returned.
func ParseCSV(data []byte) ([]map[string]any, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	var header []string
	rows := []map[string]any{}
	for len(rows) < MaxRows {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("influx: parse CSV: %w", err)
		}
		if len(rec) == 0 || strings.HasPrefix(rec[0], "#") {
			continue
		}
		if header == nil || (len(rec) > 1 && rec[0] == "" && rec[1] == "result") {
			header = rec
			continue
		}
		row := map[string]any{}
		for i, v := range rec {
			if i >= len(header) {
				break
			}
			h := header[i]
			if h == "" || h == "result" || h == "table" {
				continue
			}
			row[h] = v
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
	}
	return rows, nil
}

func sql(ctx context.Context, c *provider.Client, base, token, q string) ([]map[string]any, error) {
	var raw json.RawMessage
	err := c.JSON(ctx, provider.Request{Method: http.MethodPost, URL: base + "/api/v3/query_sql", MaxBody: MaxBody,
		Header: http.Header{"Authorization": {"Bearer " + token}}, JSON: map[string]any{"q": q, "format": "json"}}, &raw)
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	if json.Unmarshal(raw, &rows) != nil {
		var wrapped struct {
			Data []map[string]any `json:"data"`
		}
		if json.Unmarshal(raw, &wrapped) != nil {
			return []map[string]any{}, nil
		}
		rows = wrapped.Data
	}
	if rows == nil {
		rows = []map[string]any{}
	}
	if len(rows) > MaxRows {
		rows = rows[:MaxRows]
	}
	return rows, nil
}
