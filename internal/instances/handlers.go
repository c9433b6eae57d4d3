package instances

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

func itoa(n int) string { return strconv.Itoa(n) }

func (r *Room) audit(ctx context.Context, action, details string) {
	if r.d.Audit == nil {
		return
	}
	r.d.Audit.Record(ctx, action, authz.Must(ctx).Username, details, httpx.ClientIP(ctx))
}

// View is an instance as the API shows it. AuthConfig is the masked
// credentials for admins and {"redacted": true} for everyone else; the list
// and group-member answers carry auth_config and tags as JSON strings (as
// the established server stores them), the single-instance answer as JSON.
type View struct {
	ID           string  `json:"id"`
	Category     string  `json:"category"`
	Platform     string  `json:"platform"`
	URL          string  `json:"url"`
	AuthConfig   any     `json:"auth_config"`
	Site         *string `json:"site"`
	Tags         any     `json:"tags"`
	Enabled      int     `json:"enabled"`
	HealthStatus string  `json:"health_status"`
	HealthError  string  `json:"health_error"`
	LastChecked  *int64  `json:"last_checked"`
	LastSeen     *int64  `json:"last_seen"`
	CreatedAt    int64   `json:"created_at"`
	VerifySSL    int     `json:"verify_ssl"`
	CABundle     string  `json:"ca_bundle"`
}

func view(ctx context.Context, in Instance, asStrings bool) View {
	var auth any = map[string]any{"redacted": true}
	if authz.Must(ctx).Role == authz.AdminRole {
		auth = MaskConfig(in.AuthConfig)
	}
	var tags any = in.Tags
	if asStrings {
		a, _ := json.Marshal(auth)
		t, _ := json.Marshal(in.Tags)
		auth, tags = string(a), string(t)
	}
	return View{ID: in.ID, Category: in.Category, Platform: in.Platform, URL: in.URL, AuthConfig: auth, Site: in.Site,
		Tags: tags, Enabled: b2i(in.Enabled), HealthStatus: in.HealthStatus, HealthError: in.HealthError,
		LastChecked: in.LastChecked, LastSeen: in.LastSeen, CreatedAt: in.CreatedAt, VerifySSL: b2i(in.VerifySSL),
		CABundle: in.CABundle}
}

func views(ctx context.Context, list []Instance) []View {
	out := make([]View, 0, len(list))
	for _, in := range list {
		out = append(out, view(ctx, in, true))
	}
	return out
}

type instListIn struct {
	Category string `query:"category" doc:"only instances of this category"`
	Site     string `query:"site" doc:"only instances of this site"`
}

type instListOut struct{ Body []View }

func (r *Room) list(ctx context.Context, in *instListIn) (*instListOut, error) {
	list, err := r.d.Store.List(ctx, Filter{Category: strings.TrimSpace(in.Category), Site: strings.TrimSpace(in.Site)})
	if err != nil {
		return nil, err
	}
	return &instListOut{Body: views(ctx, list)}, nil
}

type instIdIn struct {
	ID string `path:"id"`
}

type instViewOut struct{ Body View }

func notFound(id string) error { return httpx.NotFound("Instance not found: %s", id) }

func (r *Room) get(ctx context.Context, in *instIdIn) (*instViewOut, error) {
	inst, err := r.d.Store.Get(ctx, in.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, notFound(in.ID)
	}
	if err != nil {
		return nil, err
	}
	return &instViewOut{Body: view(ctx, inst, false)}, nil
}

type instRawIn struct{ RawBody []byte }

func object(raw []byte) (map[string]any, error) {
	if strings.TrimSpace(string(raw)) == "" {
		return map[string]any{}, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, httpx.Invalid("Invalid JSON")
	}
	return m, nil
}

type instStatusOut struct {
	Body struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
}

func idStatus(id, status string) *instStatusOut {
	o := &instStatusOut{}
	o.Body.ID, o.Body.Status = id, status
	return o
}

// editable are the fields POST and PATCH accept.
var editable = map[string]bool{"id": true, "category": true, "platform": true, "url": true, "auth_config": true,
	"site": true, "tags": true, "enabled": true, "verify_ssl": true, "ca_bundle": true}

// apply validates the fields of body and sets them on in.
func apply(body map[string]any, in *Instance, creating bool) error {
	var bad []string
	for k := range body {
		if !editable[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return httpx.Invalid("Invalid fields: %s", strings.Join(bad, ", "))
	}
	str := func(k string) (string, bool, error) {
		v, ok := body[k]
		if !ok || v == nil {
			return "", ok, nil
		}
		s, isStr := v.(string)
		if !isStr {
			return "", true, httpx.Invalid("%s must be a string", k)
		}
		return strings.TrimSpace(s), true, nil
	}
	for _, k := range []string{"category", "platform"} {
		s, ok, err := str(k)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if !slugRE.MatchString(s) {
			return httpx.Invalid("%s must be lower-case letters, digits, '_' or '-' (e.g. nas, truenas), got %q", k, s)
		}
		if k == "category" {
			in.Category = s
		} else {
			in.Platform = s
		}
	}
	if s, ok, err := str("url"); err != nil {
		return err
	} else if ok {
		if err := validateURL(s); err != nil {
			return httpx.Invalid("%s", err.Error())
		}
		in.URL = strings.TrimRight(s, "/")
	}
	if v, ok := body["site"]; ok {
		switch x := v.(type) {
		case nil:
			in.Site = nil
		case string:
			s := strings.TrimSpace(x)
			if s == "" {
				in.Site = nil
			} else {
				in.Site = &s
			}
		default:
			return httpx.Invalid("site must be a string")
		}
	}
	if v, ok := body["tags"]; ok {
		tags, err := decodeTags(v)
		if err != nil {
			return httpx.Invalid("%s", err.Error())
		}
		in.Tags = tags
	}
	if v, ok := body["auth_config"]; ok {
		cfg, err := decodeConfig(v)
		if err != nil {
			return httpx.Invalid("%s", err.Error())
		}
		if creating {
			for k, val := range cfg {
				if val == Masked {
					return httpx.Invalid("auth_config.%s: give the real value, not %s", k, Masked)
				}
			}
			in.AuthConfig = cfg
		} else {
			in.AuthConfig = MergeConfig(in.AuthConfig, cfg)
		}
	}
	for _, k := range []string{"enabled", "verify_ssl"} {
		v, ok := body[k]
		if !ok {
			continue
		}
		b, err := boolish(v)
		if err != nil {
			return httpx.Invalid("%s must be true or false", k)
		}
		if k == "enabled" {
			in.Enabled = b
		} else {
			in.VerifySSL = b
		}
	}
	if s, ok, err := str("ca_bundle"); err != nil {
		return err
	} else if ok {
		if err := checkCABundle(s); err != nil {
			return httpx.Invalid("%s", err.Error())
		}
		in.CABundle = s
	}
	return nil
}

func (r *Room) create(ctx context.Context, in *instRawIn) (*instStatusOut, error) {
	body, err := object(in.RawBody)
	if err != nil {
		return nil, err
	}
	for _, f := range []string{"id", "category", "platform"} {
		if s, _ := body[f].(string); strings.TrimSpace(s) == "" {
			return nil, httpx.Invalid("Missing required field: %s", f)
		}
	}
	id := strings.TrimSpace(body["id"].(string))
	if !idRE.MatchString(id) {
		return nil, httpx.Invalid("id must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
	}
	inst := Instance{ID: id, AuthConfig: map[string]any{}, Tags: []string{}, Enabled: true, VerifySSL: true,
		HealthStatus: "unknown", CreatedAt: r.d.Now().Unix()}
	if err := apply(body, &inst, true); err != nil {
		return nil, err
	}
	inst.ID = id
	switch err := r.d.Store.Create(ctx, inst); {
	case errors.Is(err, ErrExists):
		return nil, httpx.Conflict("Instance already exists: %s", id)
	case err != nil:
		return nil, err
	}
	r.audit(ctx, "integration_create", fmt.Sprintf("Created instance %s (%s/%s)", id, inst.Category, inst.Platform))
	return idStatus(id, "created"), nil
}

type instPatchIn struct {
	ID      string `path:"id"`
	RawBody []byte
}

func (r *Room) patch(ctx context.Context, in *instPatchIn) (*instStatusOut, error) {
	if _, err := r.d.Store.Get(ctx, in.ID); errors.Is(err, ErrNotFound) {
		return nil, notFound(in.ID)
	} else if err != nil {
		return nil, err
	}
	body, err := object(in.RawBody)
	if err != nil {
		return nil, err
	}
	if v, ok := body["id"]; ok && v != in.ID {
		return nil, httpx.Invalid("id cannot be changed")
	}
	delete(body, "id")
	_, err = r.d.Store.Update(ctx, in.ID, func(inst *Instance) error { return apply(body, inst, false) })
	if errors.Is(err, ErrNotFound) {
		return nil, notFound(in.ID)
	}
	if err != nil {
		return nil, err
	}
	fields := make([]string, 0, len(body))
	for k := range body {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	if len(fields) > 0 {
		r.audit(ctx, "integration_update", fmt.Sprintf("Updated instance %s: %s", in.ID, strings.Join(fields, ", ")))
	}
	return idStatus(in.ID, "updated"), nil
}

func (r *Room) delete(ctx context.Context, in *instIdIn) (*instStatusOut, error) {
	err := r.d.Store.Delete(ctx, in.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, notFound(in.ID)
	}
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "integration_delete", "Deleted instance "+in.ID)
	return idStatus(in.ID, "deleted"), nil
}

// TestResult is the answer of test-connection.
type TestResult struct {
	Success    bool   `json:"success"`
	StatusCode *int   `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
	Platform   string `json:"platform"`
	URL        string `json:"url,omitempty"`
}

type instTestOut struct{ Body TestResult }

// testConnection probes a URL: the body's, or the stored instance's
// (body "id"), with the instance's TLS settings unless the body gives
// verify_ssl. Testing a stored instance records its health.
func (r *Room) testConnection(ctx context.Context, in *instRawIn) (*instTestOut, error) {
	body, err := object(in.RawBody)
	if err != nil {
		return nil, err
	}
	url, _ := body["url"].(string)
	platform, _ := body["platform"].(string)
	opts := TLSOptions{VerifySSL: true}
	var stored *Instance
	if id, _ := body["id"].(string); id != "" {
		inst, err := r.d.Store.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil, notFound(id)
		}
		if err != nil {
			return nil, err
		}
		stored = &inst
		opts = TLSOptions{VerifySSL: inst.VerifySSL, CABundle: inst.CABundle}
		if strings.TrimSpace(url) == "" {
			url = inst.URL
		}
		if platform == "" {
			platform = inst.Platform
		}
	}
	if v, ok := body["verify_ssl"]; ok && v != nil {
		// spec 30 §3.2: "0", "false", "no" turn verification off; any other
		// string (a CA path of the established server included) keeps it on.
		b, err := boolish(v)
		if _, isStr := v.(string); err != nil && isStr {
			b, err = true, nil
		}
		if err != nil {
			return nil, httpx.Invalid("verify_ssl must be true or false")
		}
		opts.VerifySSL = b
	}
	url = strings.TrimSpace(url)
	if url == "" {
		return &instTestOut{Body: TestResult{Success: false, Error: "No URL provided", Platform: platform}}, nil
	}
	if err := validateURL(url); err != nil {
		return nil, httpx.Invalid("%s", err.Error())
	}
	var code int
	if stored != nil && strings.TrimRight(url, "/") == stored.URL {
		code, err = r.probeAndRecord(ctx, *stored)
	} else {
		code, err = Probe(ctx, url, opts)
	}
	res := TestResult{Platform: platform, URL: url}
	if err != nil {
		res.Error = err.Error()
	} else {
		res.Success, res.StatusCode = code < 500, &code
	}
	return &instTestOut{Body: res}, nil
}

type instStringsOut struct{ Body []string }

func (r *Room) categories(context.Context, *struct{}) (*instStringsOut, error) {
	out := make([]string, 0, len(Catalog))
	for _, c := range Catalog {
		out = append(out, c.Name)
	}
	return &instStringsOut{Body: out}, nil
}

type instCatIn struct {
	Cat string `path:"cat"`
}

func (r *Room) platforms(_ context.Context, in *instCatIn) (*instStringsOut, error) {
	for _, c := range Catalog {
		if c.Name == in.Cat {
			out := append([]string(nil), c.Platforms...)
			sort.Strings(out)
			return &instStringsOut{Body: out}, nil
		}
	}
	return nil, httpx.NotFound("Unknown category: %s", in.Cat)
}

func (r *Room) groups(ctx context.Context, _ *struct{}) (*instStringsOut, error) {
	g, err := r.d.Store.Groups(ctx)
	if err != nil {
		return nil, err
	}
	return &instStringsOut{Body: g}, nil
}

type instGroupIn struct {
	Name string `path:"name"`
}

func (r *Room) members(ctx context.Context, in *instGroupIn) (*instListOut, error) {
	list, err := r.d.Store.Members(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	return &instListOut{Body: views(ctx, list)}, nil
}

type instAddMemberIn struct {
	Name    string `path:"name"`
	RawBody []byte
}

type instMemberOut struct {
	Body struct {
		Group      string `json:"group"`
		InstanceID string `json:"instance_id"`
		Status     string `json:"status"`
	}
}

func member(group, id, status string) *instMemberOut {
	o := &instMemberOut{}
	o.Body.Group, o.Body.InstanceID, o.Body.Status = group, id, status
	return o
}

func (r *Room) addMember(ctx context.Context, in *instAddMemberIn) (*instMemberOut, error) {
	body, err := object(in.RawBody)
	if err != nil {
		return nil, err
	}
	id, _ := body["instance_id"].(string)
	if id = strings.TrimSpace(id); id == "" {
		return nil, httpx.Invalid("Missing instance_id")
	}
	if !groupRE.MatchString(in.Name) {
		return nil, httpx.Invalid("Group name must be 1-64 letters, digits, spaces, '_', '.' or '-'")
	}
	if err := r.d.Store.AddMember(ctx, in.Name, id); errors.Is(err, ErrNotFound) {
		return nil, notFound(id)
	} else if err != nil {
		return nil, err
	}
	r.audit(ctx, "integration_group_add", fmt.Sprintf("Added %s to group %s", id, in.Name))
	return member(in.Name, id, "added"), nil
}

type instRemoveMemberIn struct {
	Name string `path:"name"`
	ID   string `path:"id"`
}

func (r *Room) removeMember(ctx context.Context, in *instRemoveMemberIn) (*instMemberOut, error) {
	if err := r.d.Store.RemoveMember(ctx, in.Name, in.ID); err != nil {
		return nil, err
	}
	r.audit(ctx, "integration_group_remove", fmt.Sprintf("Removed %s from group %s", in.ID, in.Name))
	return member(in.Name, in.ID, "removed"), nil
}
