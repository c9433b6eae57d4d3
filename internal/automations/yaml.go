package automations

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

type exportAuto struct {
	ID        string         `yaml:"id"`
	Name      string         `yaml:"name"`
	Type      string         `yaml:"type"`
	Config    map[string]any `yaml:"config"`
	Schedule  *string        `yaml:"schedule"`
	Enabled   bool           `yaml:"enabled"`
	CreatedAt int64          `yaml:"created_at"`
	UpdatedAt int64          `yaml:"updated_at"`
}

// export answers the automations as YAML, secrets masked.
func (r *Room) export(w http.ResponseWriter, req *http.Request) {
	as, err := r.d.Store.List(req.Context(), "")
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	doc := struct {
		Automations []exportAuto `yaml:"automations"`
	}{Automations: []exportAuto{}}
	for _, a := range as {
		doc.Automations = append(doc.Automations, exportAuto{a.ID, a.Name, a.Type, maskConfig(a.Config), a.Schedule, a.Enabled, a.CreatedAt, a.UpdatedAt})
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-yaml")
	w.Header().Set("Content-Disposition", `attachment; filename="noba-automations.yaml"`)
	_, _ = w.Write(b)
}

var hex12 = regexp.MustCompile(`^[0-9a-f]{12}$`)

// jsonify turns decoded YAML into JSON-shaped values (string keys, float numbers).
func jsonify(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// importYAML validates every automation of the upload before writing any:
// one bad item refuses the whole import (400 naming it) and nothing is
// written; the rest is one transaction.
func (r *Room) importYAML(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 512<<10))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			httpx.WriteError(w, http.StatusRequestEntityTooLarge, "Upload too large (max 512 KB)")
			return
		}
		httpx.WriteError(w, http.StatusBadRequest, "Could not read the upload")
		return
	}
	mode := req.URL.Query().Get("mode")
	if mode == "" {
		mode = "skip"
	}
	if mode != "skip" && mode != "overwrite" {
		httpx.WriteError(w, http.StatusBadRequest, "mode must be 'skip' or 'overwrite'")
		return
	}
	var raw any
	if !utf8.Valid(body) || yaml.Unmarshal(body, &raw) != nil {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid YAML")
		return
	}
	doc, err := jsonify(raw)
	top, isMap := doc.(map[string]any)
	if err != nil || !isMap {
		httpx.WriteError(w, http.StatusBadRequest, "Expected a YAML mapping with 'automations' key")
		return
	}
	items := []any{}
	if v, ok := top["automations"]; ok && v != nil {
		l, isList := v.([]any)
		if !isList {
			httpx.WriteError(w, http.StatusBadRequest, "'automations' must be a list")
			return
		}
		items = l
	}
	p := authz.Must(ctx)
	now := r.now().Unix()
	var plan []ImportItem
	skipped := 0
	seen := map[string]bool{}
	for i, it := range items {
		bad := func(format string, args ...any) {
			httpx.WriteError(w, http.StatusBadRequest, fmt.Sprintf("Automation #%d: ", i+1)+fmt.Sprintf(format, args...)+"; nothing was imported")
		}
		m, ok := it.(map[string]any)
		if !ok {
			bad("not a mapping")
			return
		}
		a := Automation{Config: map[string]any{}, Enabled: true, CreatedAt: now, UpdatedAt: now, AuthorRole: string(p.Role), CreatedBy: p.Username}
		body := map[string]any{}
		for _, k := range []string{"name", "type", "config", "schedule", "enabled"} {
			if v, ok := m[k]; ok {
				body[k] = v
			}
		}
		if _, ok := body["name"]; !ok {
			bad("'name' is required")
			return
		}
		if _, ok := body["type"]; !ok {
			bad("'type' is required")
			return
		}
		if _, err := applyAutomation(&a, body); err != nil {
			_, msg := httpx.Status(err)
			bad("%s", msg)
			return
		}
		id := str(m, "id")
		var existing *Automation
		if id != "" {
			if seen[id] {
				bad("duplicate id '%s'", id)
				return
			}
			seen[id] = true
			if old, err := r.d.Store.Get(ctx, id); err == nil {
				existing = &old
			}
		}
		if existing != nil {
			keepSecrets(a.Config, existing.Config)
		}
		if hasMasked(a.Config) {
			bad("a secret value is masked (%s); put the real value in the file", masked)
			return
		}
		if err := r.checkWrite(a, p.Role); err != nil {
			_, msg := httpx.Status(err)
			bad("%s", msg)
			return
		}
		switch {
		case existing != nil && mode == "skip":
			skipped++
			continue
		case existing != nil:
			a.ID, a.CreatedAt, a.CreatedBy = existing.ID, existing.CreatedAt, existing.CreatedBy
			plan = append(plan, ImportItem{A: a, Overwrite: true})
		default:
			a.ID = id
			if !hex12.MatchString(id) {
				a.ID = newID(6)
			}
			plan = append(plan, ImportItem{A: a})
		}
	}
	if err := r.d.Store.Import(ctx, plan); err != nil {
		httpx.WriteErr(w, err)
		return
	}
	r.audit(ctx, "automation_import", fmt.Sprintf("Imported %d, skipped %d (mode=%s)", len(plan), skipped, mode))
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"imported": len(plan), "skipped": skipped})
}

func hasMasked(cfg map[string]any) bool {
	for k, v := range cfg {
		switch x := v.(type) {
		case map[string]any:
			if hasMasked(x) {
				return true
			}
		case string:
			if x == masked && secretKey(k) {
				return true
			}
		}
	}
	return false
}
