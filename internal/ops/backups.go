package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

type opsVerificationsIn struct {
	Hostname string `query:"hostname"`
	Limit    string `query:"limit"`
}

type opsVerificationsOut struct{ Body []Verification }

func (r *Room) verifications(ctx context.Context, in *opsVerificationsIn) (*opsVerificationsOut, error) {
	limit, err := httpx.IntParam("limit", in.Limit, 100, 1, 500)
	if err != nil {
		return nil, err
	}
	vs, err := r.store.Verifications(ctx, strings.TrimSpace(in.Hostname), limit)
	if err != nil {
		return nil, err
	}
	return &opsVerificationsOut{Body: vs}, nil
}

var verifyTypes = []string{"checksum", "restore_test", "db_integrity"}

type opsVerifyIn struct {
	Body struct {
		Hostname         string `json:"hostname"`
		Path             string `json:"path"`
		VerificationType string `json:"verification_type,omitempty"`
	}
}

type opsVerifyOut struct {
	Body struct {
		Status           string `json:"status"`
		ID               string `json:"id"`
		Hostname         string `json:"hostname"`
		Path             string `json:"path"`
		VerificationType string `json:"verification_type"`
	}
}

func (r *Room) verify(ctx context.Context, in *opsVerifyIn) (*opsVerifyOut, error) {
	host, path, typ := strings.TrimSpace(in.Body.Hostname), strings.TrimSpace(in.Body.Path), strings.TrimSpace(in.Body.VerificationType)
	if host == "" {
		return nil, httpx.Invalid("hostname is required")
	}
	if path == "" {
		return nil, httpx.Invalid("path is required")
	}
	if typ == "" {
		typ = "checksum"
	}
	if !slices.Contains(verifyTypes, typ) {
		return nil, httpx.Invalid("Invalid verification_type: %s", typ)
	}
	known := false
	if r.d.Agents != nil {
		for _, a := range r.d.Agents.AgentList() {
			known = known || a["hostname"] == host
		}
	}
	if !known {
		return nil, httpx.NotFound("Agent '%s' not found", host)
	}
	id, ws, err := r.d.Agents.Send(ctx, host, "verify_backup", map[string]any{"path": path, "verification_type": typ}, authz.Must(ctx).Username)
	if err != nil {
		return nil, err
	}
	if err := r.store.AddVerification(ctx, Verification{BackupPath: path, Hostname: host, VerificationType: typ, Status: "pending",
		VerifiedAt: r.d.Now().Unix()}, id); err != nil {
		return nil, err
	}
	r.audit(ctx, "verify_backup", fmt.Sprintf("host=%s path=%s type=%s id=%s ws=%t", host, path, typ, id, ws))
	out := &opsVerifyOut{}
	out.Body.Status, out.Body.ID, out.Body.Hostname, out.Body.Path, out.Body.VerificationType = "queued", id, host, path, typ
	if ws {
		out.Body.Status = "sent"
	}
	return out, nil
}

// OnVerifyResult stores the outcome of a verify_backup command (hook of the agents room).
func (r *Room) OnVerifyResult(ctx context.Context, host string, res map[string]any) {
	id, _ := res["id"].(string)
	status, _ := res["status"].(string)
	if status == "" {
		status = "error"
	}
	details := map[string]any{}
	if d, ok := res["details"].(map[string]any); ok {
		details = d
	}
	if e, ok := res["error"].(string); ok && e != "" {
		details["error"] = e
	}
	b, _ := json.Marshal(details)
	path, _ := res["path"].(string)
	typ, _ := res["verification_type"].(string)
	if err := r.store.CompleteVerification(ctx, id, host, path, typ, status, string(b), r.d.Now().Unix()); err != nil {
		r.d.Log.Warn("store verification", "err", err)
	}
}

type opsList321Out struct{ Body []Status321 }

func (r *Room) list321(ctx context.Context, _ *struct{}) (*opsList321Out, error) {
	ss, err := r.store.List321(ctx)
	if err != nil {
		return nil, err
	}
	return &opsList321Out{Body: ss}, nil
}

type opsPut321In struct {
	Body map[string]any
}

type opsPut321Out struct {
	Body struct {
		Status string `json:"status"`
		ID     int64  `json:"id"`
	}
}

func (r *Room) put321(ctx context.Context, in *opsPut321In) (*opsPut321Out, error) {
	b := in.Body
	name, _ := b["backup_name"].(string)
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, httpx.Invalid("backup_name is required")
	}
	if len(name) > 200 {
		return nil, httpx.Invalid("backup_name is too long (max 200 characters)")
	}
	var p Patch321
	if v, ok := b["copies"]; ok {
		f, isNum := v.(float64)
		if !isNum || f != float64(int(f)) || f < 0 || f > 100 {
			return nil, httpx.Invalid("copies must be an integer 0-100")
		}
		n := int(f)
		p.Copies = &n
	}
	if v, ok := b["media_types"]; ok {
		list, isList := v.([]any)
		if !isList {
			return nil, httpx.Invalid("media_types must be a list of strings")
		}
		ms := []string{}
		for _, e := range list {
			s, isStr := e.(string)
			if !isStr || len(s) > 50 {
				return nil, httpx.Invalid("media_types must be a list of strings")
			}
			ms = append(ms, s)
		}
		p.MediaTypes = &ms
	}
	if v, ok := b["has_offsite"]; ok {
		bv, isBool := v.(bool)
		if !isBool {
			return nil, httpx.Invalid("has_offsite must be true or false")
		}
		p.HasOffsite = &bv
	}
	if v, ok := b["last_verified"]; ok && v != nil {
		f, isNum := v.(float64)
		if !isNum || f < 0 {
			return nil, httpx.Invalid("last_verified must be a Unix time")
		}
		n := int64(f)
		p.LastVerified = &n
	}
	id, err := r.store.Upsert321(ctx, name, p, r.d.Now().Unix())
	if err != nil {
		if errors.Is(err, httpx.ErrInvalid) {
			return nil, err
		}
		r.d.Log.Error("321 upsert", "err", err)
		return nil, httpx.NewBody(500, "Failed to update 3-2-1 status")
	}
	r.audit(ctx, "backup_321_update", "name="+name)
	out := &opsPut321Out{}
	out.Body.Status, out.Body.ID = "ok", id
	return out, nil
}
