package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Routes mounts the plugin routes of router 3.
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/plugins/available", authz.Admin, "List available remote plugins"), r.available)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/plugins/bundled", authz.Admin, "List bundled catalog plugins"), r.bundled)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/plugins/install", authz.Admin, "Install a plugin"), r.install)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/plugins/{plugin_id}/config", authz.Admin, "Get plugin config and schema"), r.getConfig)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/plugins/{plugin_id}/config", authz.Admin, "Save plugin config"), r.saveConfig)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/plugins/managed", authz.Read, "List plugins with metadata"), r.managedList)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/plugins/{name}/enable", authz.Admin, "Enable a plugin"), r.enable)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/plugins/{name}/disable", authz.Admin, "Disable a plugin"), r.disable)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/plugins/reload", authz.Admin, "Reload all plugins"), r.reload)
}

func (r *Room) audit(ctx context.Context, action, details string) {
	r.d.Audit.Record(ctx, action, authz.Must(ctx).Username, details, httpx.ClientIP(ctx))
}

type anyListOut struct{ Body []any }

func (r *Room) available(ctx context.Context, _ *struct{}) (*anyListOut, error) {
	out := &anyListOut{Body: []any{}}
	u := r.d.Settings.Current().PluginCatalogURL
	if u = strings.TrimSpace(u); u == "" {
		return out, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return out, nil
	}
	resp, err := r.d.HTTP.Do(req)
	if err != nil {
		r.d.Log.Warn("plugin catalog", "err", err)
		return out, nil
	}
	defer resp.Body.Close()
	var list []any
	if resp.StatusCode/100 != 2 || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&list) != nil || list == nil {
		return out, nil
	}
	out.Body = list
	return out, nil
}

// CatalogEntry is one bundled plugin.
type CatalogEntry struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Version     string `json:"version"`
	Icon        string `json:"icon"`
	Description string `json:"description"`
	Filename    string `json:"filename"`
	Bundled     bool   `json:"bundled"`
}

func catalog() ([]CatalogEntry, error) {
	b, err := catalogFS.ReadFile("catalog/index.json")
	if err != nil {
		return nil, err
	}
	var out []CatalogEntry
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("catalog index: %w", err)
	}
	for i := range out {
		out[i].Bundled = true
	}
	return out, nil
}

type catalogOut struct{ Body []CatalogEntry }

func (r *Room) bundled(ctx context.Context, _ *struct{}) (*catalogOut, error) {
	c, err := catalog()
	if err != nil {
		return nil, err
	}
	return &catalogOut{Body: c}, nil
}

type installIn struct {
	Body struct {
		Filename string `json:"filename,omitempty"`
		URL      string `json:"url,omitempty"`
		Bundled  bool   `json:"bundled,omitempty"`
		SHA256   string `json:"sha256,omitempty" doc:"hex sha256 of the file (required for a remote install)"`
	}
}

type pluginStatusOut struct {
	Body struct {
		Status string `json:"status"`
	}
}

var hexRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// writeExecutable writes the plugin file atomically with mode 0755.
func (r *Room) writeExecutable(name string, content []byte) error {
	if err := os.MkdirAll(r.d.Dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(r.d.Dir, ".install-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(r.d.Dir, name))
}

func (r *Room) install(ctx context.Context, in *installIn) (*pluginStatusOut, error) {
	b := in.Body
	if b.Filename == "" {
		return nil, httpx.Invalid("Filename required")
	}
	if !fileRe.MatchString(b.Filename) {
		return nil, httpx.Invalid("Invalid filename: letters, digits, - and _ with an optional extension")
	}
	var content []byte
	if b.Bundled {
		c, err := catalogFS.ReadFile("catalog/" + b.Filename)
		if errors.Is(err, fs.ErrNotExist) || b.Filename == "index.json" {
			return nil, httpx.Invalid("Install failed: no bundled plugin named %s", b.Filename)
		}
		if err != nil {
			return nil, err
		}
		content = c
	} else {
		if b.URL == "" {
			return nil, httpx.Invalid("URL required for remote install")
		}
		if !strings.HasPrefix(b.URL, "https://") {
			return nil, httpx.Invalid("Install failed: the URL must start with https://")
		}
		want := strings.ToLower(strings.TrimSpace(b.SHA256))
		if !hexRe.MatchString(want) {
			return nil, httpx.Invalid("Install failed: a remote plugin needs its sha256 (64 hex digits) to pin its content")
		}
		c, err := r.download(ctx, b.URL)
		if err != nil {
			r.d.Log.Warn("plugin download", "url", b.URL, "err", err)
			return nil, httpx.Invalid("Install failed: %v", err)
		}
		sum := sha256.Sum256(c)
		if hex.EncodeToString(sum[:]) != want {
			return nil, httpx.Invalid("Install failed: the download does not match the sha256 given")
		}
		content = c
	}
	if err := r.writeExecutable(b.Filename, content); err != nil {
		return nil, fmt.Errorf("install %s: %w", b.Filename, err)
	}
	r.audit(ctx, "plugin_install", "Installed "+b.Filename)
	out := &pluginStatusOut{}
	out.Body.Status = "ok"
	return out, nil
}

func (r *Room) download(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.d.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("download answered %d", resp.StatusCode)
	}
	const limit = 5 << 20
	c, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if len(c) > limit {
		return nil, errors.New("plugin larger than 5 MiB")
	}
	return c, nil
}

type pluginIDIn struct {
	PluginID string `path:"plugin_id"`
}

type pluginConfigOut struct {
	Body struct {
		Config map[string]any   `json:"config"`
		Schema map[string]Field `json:"schema"`
	}
}

func (r *Room) getConfig(ctx context.Context, in *pluginIDIn) (*pluginConfigOut, error) {
	r.mu.Lock()
	pl, ok := r.all[in.PluginID]
	var schema map[string]Field
	var saved map[string]any
	if ok {
		schema, saved = pl.manifest.ConfigSchema, pl.config
	}
	r.mu.Unlock()
	if !ok || len(schema) == 0 {
		return nil, httpx.NotFound("Plugin has no configurable settings")
	}
	out := &pluginConfigOut{}
	out.Body.Config, out.Body.Schema = withDefaults(schema, saved), schema
	return out, nil
}

type saveConfigIn struct {
	PluginID string `path:"plugin_id"`
	Body     map[string]any
}

func (r *Room) saveConfig(ctx context.Context, in *saveConfigIn) (*pluginStatusOut, error) {
	r.mu.Lock()
	pl, ok := r.all[in.PluginID]
	var schema map[string]Field
	if ok {
		schema = pl.manifest.ConfigSchema
	}
	r.mu.Unlock()
	if !ok {
		return nil, httpx.Invalid("Plugin not found")
	}
	if len(schema) == 0 {
		return nil, httpx.Invalid("Plugin has no configurable settings")
	}
	vals, err := validate(schema, in.Body)
	if err != nil {
		return nil, httpx.Invalid("%s", err.Error())
	}
	if err := r.saveState(ctx, in.PluginID, nil, vals); err != nil {
		return nil, err
	}
	r.mu.Lock()
	pl.config = vals
	pl.next = time.Time{}
	r.mu.Unlock()
	r.wake()
	r.audit(ctx, "plugin_config", "Updated config for plugin "+in.PluginID)
	out := &pluginStatusOut{}
	out.Body.Status = "ok"
	return out, nil
}

type managedOut struct{ Body []Managed }

func (r *Room) managedList(ctx context.Context, _ *struct{}) (*managedOut, error) {
	return &managedOut{Body: r.managed()}, nil
}

type nameIn struct {
	Name string `path:"name"`
}

type toggleOut struct {
	Body struct {
		Status  string `json:"status"`
		Plugin  string `json:"plugin"`
		Enabled bool   `json:"enabled"`
	}
}

func (r *Room) toggle(ctx context.Context, name string, on bool) (*toggleOut, error) {
	if err := r.setEnabled(ctx, name, on); errors.Is(err, errUnknown) {
		return nil, httpx.NotFound("Plugin '%s' not found", name)
	} else if err != nil {
		return nil, err
	}
	if on {
		r.audit(ctx, "plugin_enable", "Enabled plugin "+name)
	} else {
		r.audit(ctx, "plugin_disable", "Disabled plugin "+name)
	}
	out := &toggleOut{}
	out.Body.Status, out.Body.Plugin, out.Body.Enabled = "ok", name, on
	return out, nil
}

func (r *Room) enable(ctx context.Context, in *nameIn) (*toggleOut, error) {
	return r.toggle(ctx, in.Name, true)
}
func (r *Room) disable(ctx context.Context, in *nameIn) (*toggleOut, error) {
	return r.toggle(ctx, in.Name, false)
}

type reloadOut struct {
	Body struct {
		Status string `json:"status"`
		Count  int    `json:"count"`
	}
}

func (r *Room) reload(ctx context.Context, _ *struct{}) (*reloadOut, error) {
	n, err := r.Reload(ctx)
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "plugin_reload", "Reloaded all plugins")
	out := &reloadOut{}
	out.Body.Status, out.Body.Count = "ok", n
	return out, nil
}
