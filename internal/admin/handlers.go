package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/httpx"
)

type settingsOut struct{ Body map[string]any }

func (r *Room) getSettings(ctx context.Context, _ *struct{}) (*settingsOut, error) {
	return &settingsOut{Body: r.d.Settings.Masked()}, nil
}

type postSettingsIn struct {
	Body map[string]any
}

type statusOut struct {
	Body struct {
		Status string `json:"status"`
	}
}

func settingsErr(err error) error {
	switch {
	case errors.Is(err, config.ErrInvalid):
		return httpx.Invalid("%s", strings.TrimPrefix(err.Error(), config.ErrInvalid.Error()+": "))
	case errors.Is(err, config.ErrTooLarge):
		return httpx.TooLarge("%s", strings.TrimPrefix(err.Error(), config.ErrTooLarge.Error()+": "))
	}
	return err
}

func (r *Room) postSettings(ctx context.Context, in *postSettingsIn) (*statusOut, error) {
	p := authz.Must(ctx)
	ip := httpx.ClientIP(ctx)
	changes, err := r.d.Settings.Update(in.Body)
	if err != nil {
		if errors.Is(err, config.ErrInvalid) {
			return nil, settingsErr(err)
		}
		r.d.Audit.Record(ctx, "settings_save", p.Username, "Settings update failed", ip)
		return nil, fmt.Errorf("failed to write settings: %w", err)
	}
	if len(changes) > 0 {
		js, _ := json.Marshal(changes)
		if err := r.d.Store.AddChanges(ctx, r.d.Now().Unix(), p.Username, js); err != nil {
			r.d.Log.Error("changelog write failed", "err", err)
		}
		first := changes
		if len(first) > 20 {
			first = first[:20]
		}
		js20, _ := json.Marshal(first)
		r.d.Audit.Record(ctx, "settings_change", p.Username, string(js20), ip)
	}
	// The reference's action name (issue 11 item 11): settings_save.
	r.d.Audit.Record(ctx, "settings_save", p.Username, "Settings written to config.yaml", ip)
	out := &statusOut{}
	out.Body.Status = "ok"
	return out, nil
}

type changelogOut struct{ Body []ChangeSet }

func (r *Room) changelog(ctx context.Context, _ *struct{}) (*changelogOut, error) {
	cs, err := r.d.Store.Changes(ctx, 100)
	if err != nil {
		return nil, err
	}
	return &changelogOut{Body: cs}, nil
}

type auditIn struct {
	Limit  string `query:"limit"`
	User   string `query:"user"`
	Action string `query:"action"`
	From   string `query:"from"`
	To     string `query:"to"`
}

type auditOut struct{ Body []Entry }

func (r *Room) audit(ctx context.Context, in *auditIn) (*auditOut, error) {
	limit, err := httpx.IntParam("limit", in.Limit, 100, 1, 1000)
	if err != nil {
		return nil, err
	}
	q := AuditQuery{Limit: limit, Username: in.User, Action: in.Action,
		From: int64(httpx.SafeInt(in.From, 0)), To: int64(httpx.SafeInt(in.To, 0))}
	es, err := r.d.Store.Audit(ctx, q)
	if err != nil {
		return nil, err
	}
	return &auditOut{Body: es}, nil
}

type fileOut struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (r *Room) backup(ctx context.Context, _ *struct{}) (*fileOut, error) {
	b, err := r.d.Settings.Raw()
	if err != nil {
		return nil, err
	}
	r.d.Audit.Record(ctx, "config_backup", authz.Must(ctx).Username, "Downloaded config backup", httpx.ClientIP(ctx))
	return &fileOut{ContentType: "application/x-yaml", ContentDisposition: `attachment; filename="noba-config-backup.yaml"`, Body: b}, nil
}

func (r *Room) restore(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, config.MaxRestore+1))
	if err != nil {
		httpx.WriteError(w, http.StatusBadRequest, "Could not read the upload")
		return
	}
	if err := r.d.Settings.Restore(body); err != nil {
		httpx.WriteErr(w, settingsErr(err))
		return
	}
	ctx := req.Context()
	r.d.Audit.Record(ctx, "config_restore", authz.Must(ctx).Username, "Restored config from upload", httpx.ClientIP(ctx))
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type historyOut struct {
	Body struct {
		Versions []config.FileVersion `json:"versions"`
	}
}

func (r *Room) configHistory(ctx context.Context, _ *struct{}) (*historyOut, error) {
	out := &historyOut{}
	out.Body.Versions = r.d.Settings.History()
	if out.Body.Versions == nil {
		out.Body.Versions = []config.FileVersion{}
	}
	return out, nil
}

type versionIn struct {
	Filename string `path:"filename"`
}

func (r *Room) configVersion(ctx context.Context, in *versionIn) (*fileOut, error) {
	b, err := r.d.Settings.ReadVersion(in.Filename)
	if errors.Is(err, os.ErrNotExist) {
		return nil, httpx.NotFound("File not found")
	}
	if err != nil {
		return nil, settingsErr(err)
	}
	return &fileOut{ContentType: "application/x-yaml", ContentDisposition: fmt.Sprintf("attachment; filename=%q", in.Filename), Body: b}, nil
}
