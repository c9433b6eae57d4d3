package infra

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/httpx"
)

// Proxmox is a typed client of the Proxmox VE API (API token auth).
type Proxmox struct {
	Base    string
	TokenID string
	Secret  string
	HTTP    *http.Client
}

var pmxNodeRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$`)
var snapNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`)

func (r *Room) proxmox() (*Proxmox, error) {
	s := r.settings()
	base := strings.TrimRight(str(s, "proxmoxUrl"), "/")
	if base == "" {
		return nil, httpx.Invalid("Proxmox not configured")
	}
	tokenName, user := str(s, "proxmoxTokenName"), str(s, "proxmoxUser")
	id := tokenName
	if !strings.Contains(tokenName, "!") {
		if user != "" && !strings.Contains(user, "@") {
			user += "@pam"
		}
		id = user + "!" + tokenName
	}
	verify, ok := s["proxmoxVerifySsl"]
	if !ok {
		verify = true
	}
	return &Proxmox{Base: base, TokenID: id, Secret: str(s, "proxmoxTokenValue"), HTTP: httpClient(verify, 30*time.Second)}, nil
}

// do calls /api2/json<path> and decodes the "data" member into out.
func (p *Proxmox) do(ctx context.Context, method, path string, body any, timeout time.Duration, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.Base+"/api2/json"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "PVEAPIToken="+p.TokenID+"="+p.Secret)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("proxmox %s %s: HTTP %d", method, path, resp.StatusCode)
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	return json.Unmarshal(env.Data, out)
}

type infraNodeIn struct {
	Node string `path:"node"`
}

// VM is a QEMU VM or LXC container of a node.
type VM struct {
	VMID       int64   `json:"vmid"`
	Name       string  `json:"name"`
	Type       string  `json:"type"`
	Status     string  `json:"status"`
	CPU        float64 `json:"cpu"`
	MemPercent float64 `json:"mem_percent"`
	Uptime     int64   `json:"uptime"`
	Disk       int64   `json:"disk"`
	MaxDisk    int64   `json:"maxdisk"`
}

type infraVmsOut struct{ Body []VM }

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// flexInt decodes a number that Proxmox may send as a string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	*f = flexInt(v)
	return nil
}

func (r *Room) pmxVMs(ctx context.Context, in *infraNodeIn) (*infraVmsOut, error) {
	if !pmxNodeRe.MatchString(in.Node) {
		return nil, httpx.Invalid("Invalid Proxmox node name")
	}
	p, err := r.proxmox()
	if err != nil {
		return nil, err
	}
	out := &infraVmsOut{Body: []VM{}}
	for _, typ := range []string{"qemu", "lxc"} {
		var list []struct {
			VMID    flexInt `json:"vmid"`
			Name    string  `json:"name"`
			Status  string  `json:"status"`
			CPU     float64 `json:"cpu"`
			Mem     float64 `json:"mem"`
			MaxMem  float64 `json:"maxmem"`
			Uptime  flexInt `json:"uptime"`
			Disk    flexInt `json:"disk"`
			MaxDisk flexInt `json:"maxdisk"`
		}
		if err := p.do(ctx, http.MethodGet, "/nodes/"+in.Node+"/"+typ, nil, 8*time.Second, &list); err != nil {
			r.d.Log.Warn("proxmox list", "type", typ, "err", err)
			continue
		}
		for i, v := range list {
			if i >= 50 {
				break
			}
			vm := VM{VMID: int64(v.VMID), Name: v.Name, Type: typ, Status: v.Status, CPU: round1(v.CPU * 100),
				Uptime: int64(v.Uptime), Disk: int64(v.Disk), MaxDisk: int64(v.MaxDisk)}
			if v.MaxMem > 0 {
				vm.MemPercent = round1(v.Mem / v.MaxMem * 100)
			}
			out.Body = append(out.Body, vm)
		}
	}
	return out, nil
}

type infraVmIn struct {
	Node string `path:"node"`
	VMID string `path:"vmid"`
	Type string `query:"type"`
}

func (in *infraVmIn) check() (int64, string, error) {
	if !pmxNodeRe.MatchString(in.Node) {
		return 0, "", httpx.Invalid("Invalid Proxmox node name")
	}
	id, err := strconv.ParseInt(in.VMID, 10, 64)
	if err != nil || id < 0 {
		return 0, "", httpx.Invalid("Invalid vmid parameter")
	}
	t := in.Type
	if t == "" {
		t = "qemu"
	}
	if t != "qemu" && t != "lxc" {
		return 0, "", httpx.Invalid("type must be 'qemu' or 'lxc'")
	}
	return id, t, nil
}

// Snapshot is one snapshot of a VM (including the pseudo-snapshot "current").
type Snapshot struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Snaptime    int64  `json:"snaptime"`
	Parent      string `json:"parent"`
}

type infraSnapshotsOut struct{ Body []Snapshot }

func (r *Room) pmxSnapshots(ctx context.Context, in *infraVmIn) (*infraSnapshotsOut, error) {
	id, typ, err := in.check()
	if err != nil {
		return nil, err
	}
	p, err := r.proxmox()
	if err != nil {
		return nil, err
	}
	var list []struct {
		Name        string  `json:"name"`
		Description string  `json:"description"`
		Snaptime    flexInt `json:"snaptime"`
		Parent      string  `json:"parent"`
	}
	if err := p.do(ctx, http.MethodGet, fmt.Sprintf("/nodes/%s/%s/%d/snapshot", in.Node, typ, id), nil, 10*time.Second, &list); err != nil {
		r.d.Log.Warn("proxmox snapshots", "err", err)
		return nil, httpx.BadGateway("Proxmox API error")
	}
	out := &infraSnapshotsOut{Body: []Snapshot{}}
	for _, s := range list {
		out.Body = append(out.Body, Snapshot{Name: s.Name, Description: s.Description, Snaptime: int64(s.Snaptime), Parent: s.Parent})
	}
	return out, nil
}

type infraSnapshotIn struct {
	Node string `path:"node"`
	VMID string `path:"vmid"`
	Body struct {
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
		Type        string `json:"type,omitempty"`
	}
}

type infraSnapshotOut struct {
	Body struct {
		Success bool   `json:"success"`
		Task    string `json:"task"`
	}
}

func (r *Room) pmxSnapshot(ctx context.Context, in *infraSnapshotIn) (*infraSnapshotOut, error) {
	vi := infraVmIn{Node: in.Node, VMID: in.VMID, Type: in.Body.Type}
	id, typ, err := vi.check()
	if err != nil {
		return nil, err
	}
	if !snapNameRe.MatchString(in.Body.Name) {
		return nil, httpx.Invalid("Invalid snapshot name")
	}
	if len(in.Body.Description) > 1024 {
		return nil, httpx.Invalid("Description is too long (max 1024 characters)")
	}
	p, err := r.proxmox()
	if err != nil {
		return nil, err
	}
	var task string
	if err := p.do(ctx, http.MethodPost, fmt.Sprintf("/nodes/%s/%s/%d/snapshot", in.Node, typ, id),
		map[string]string{"snapname": in.Body.Name, "description": in.Body.Description}, 30*time.Second, &task); err != nil {
		r.d.Log.Warn("proxmox snapshot", "err", err)
		return nil, httpx.BadGateway("Snapshot creation failed")
	}
	r.audit(ctx, "pmx_snapshot", fmt.Sprintf("Created snapshot %s for %s/%d", in.Body.Name, typ, id))
	out := &infraSnapshotOut{}
	out.Body.Success, out.Body.Task = true, task
	return out, nil
}

type infraConsoleOut struct {
	Body struct {
		URL string `json:"url"`
	}
}

func (r *Room) pmxConsole(ctx context.Context, in *infraVmIn) (*infraConsoleOut, error) {
	id, typ, err := in.check()
	if err != nil {
		return nil, err
	}
	p, err := r.proxmox()
	if err != nil {
		return nil, err
	}
	console := "kvm"
	if typ == "lxc" {
		console = "lxc"
	}
	q := url.Values{"console": {console}, "vmid": {strconv.FormatInt(id, 10)}, "node": {in.Node}, "resize": {"scale"}, "novnc": {"1"}}
	out := &infraConsoleOut{}
	out.Body.URL = p.Base + "/?" + q.Encode()
	return out, nil
}
