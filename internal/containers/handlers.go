package containers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/runcmd"
)

func (r *Room) audit(ctx context.Context, action, details string) {
	if r.d.Audit == nil {
		return
	}
	r.d.Audit.Record(ctx, action, authz.Must(ctx).Username, details, httpx.ClientIP(ctx))
}

func gatewayTimeout(msg string) error { return httpx.NewBody(http.StatusGatewayTimeout, msg) }

// runtimeName is "podman" when the engine says it is Podman, else "docker".
func runtimeName(ctx context.Context, cl *client.Client) string {
	v, err := cl.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return "docker"
	}
	if strings.Contains(strings.ToLower(v.Platform.Name), "podman") {
		return "podman"
	}
	for _, c := range v.Components {
		if strings.Contains(strings.ToLower(c.Name), "podman") {
			return "podman"
		}
	}
	return "docker"
}

type controlIn struct {
	Body struct {
		Name   string `json:"name"`
		Action string `json:"action"`
	}
}

type containerSuccessOut struct {
	Body struct {
		Success bool   `json:"success"`
		Runtime string `json:"runtime,omitempty"`
	}
}

func (r *Room) control(ctx context.Context, in *controlIn) (*containerSuccessOut, error) {
	name, action := strings.TrimSpace(in.Body.Name), strings.TrimSpace(in.Body.Action)
	if action != "start" && action != "stop" && action != "restart" {
		return nil, httpx.Invalid("Invalid action")
	}
	if err := validName(name); err != nil {
		return nil, err
	}
	cl, err := r.engine()
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	timeout := 10
	switch action {
	case "start":
		_, err = cl.ContainerStart(cctx, name, client.ContainerStartOptions{})
	case "stop":
		_, err = cl.ContainerStop(cctx, name, client.ContainerStopOptions{Timeout: &timeout})
	case "restart":
		_, err = cl.ContainerRestart(cctx, name, client.ContainerRestartOptions{Timeout: &timeout})
	}
	rt := runtimeName(ctx, cl)
	if err != nil {
		r.audit(ctx, "container_control", fmt.Sprintf("%s %s via %s error: %s", action, name, rt, firstLine(err.Error())))
		var te *timeoutErr
		if e := engineErr(err, "Container not found"); errors.As(e, &te) {
			return nil, gatewayTimeout("Container control timed out")
		} else {
			return nil, e
		}
	}
	r.audit(ctx, "container_control", fmt.Sprintf("%s %s via %s", action, name, rt))
	out := &containerSuccessOut{}
	out.Body.Success, out.Body.Runtime = true, rt
	return out, nil
}

type nameIn struct {
	Name  string `path:"name"`
	Lines string `query:"lines" doc:"number of lines from the end (1-5000, default 100)"`
}

type containerTextOut struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

func text(s string) *containerTextOut {
	return &containerTextOut{ContentType: "text/plain; charset=utf-8", Body: []byte(s)}
}

func (r *Room) logs(ctx context.Context, in *nameIn) (*containerTextOut, error) {
	if err := validName(in.Name); err != nil {
		return nil, err
	}
	lines, err := httpx.IntParam("lines", in.Lines, 100, 1, 5000)
	if err != nil {
		return nil, err
	}
	cl, err := r.engine()
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ins, err := cl.ContainerInspect(cctx, in.Name, client.ContainerInspectOptions{})
	if err != nil {
		return nil, engineErr(err, "Container not found")
	}
	rc, err := cl.ContainerLogs(cctx, in.Name, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(lines)})
	if err != nil {
		return nil, engineErr(err, "Container not found")
	}
	defer rc.Close()
	var buf bytes.Buffer
	lim := io.LimitReader(rc, 8<<20)
	if ins.Container.Config != nil && ins.Container.Config.Tty {
		_, err = io.Copy(&buf, lim)
	} else {
		_, err = stdcopy.StdCopy(&buf, &buf, lim)
	}
	if err != nil && cctx.Err() != nil {
		return nil, gatewayTimeout("Log fetch timed out")
	}
	s := runcmd.Tail(StripANSI(buf.String()), 65536)
	if strings.TrimSpace(s) == "" {
		s = "No logs."
	}
	return text(s), nil
}

// Inspect is the reference shape of GET /api/containers/{name}/inspect.
type Inspect struct {
	Name          string        `json:"name"`
	Image         string        `json:"image"`
	Created       string        `json:"created"`
	Status        string        `json:"status"`
	StartedAt     string        `json:"started_at"`
	RestartCount  int           `json:"restart_count"`
	Env           []string      `json:"env"`
	Ports         []PortMapping `json:"ports"`
	Mounts        []Mount       `json:"mounts"`
	Networks      []string      `json:"networks"`
	Health        string        `json:"health"`
	MemoryLimit   int64         `json:"memory_limit"`
	CPUShares     int64         `json:"cpu_shares"`
	RestartPolicy string        `json:"restart_policy"`
	Runtime       string        `json:"runtime"`
}

// PortMapping is one published port of a container.
type PortMapping struct {
	Container string `json:"container"`
	Host      string `json:"host"`
}

// Mount is one mount of a container.
type Mount struct {
	Source string `json:"source"`
	Dest   string `json:"dest"`
	Mode   string `json:"mode"`
}

type inspectOut struct{ Body Inspect }

func (r *Room) inspect(ctx context.Context, in *nameIn) (*inspectOut, error) {
	if err := validName(in.Name); err != nil {
		return nil, err
	}
	cl, err := r.engine()
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := cl.ContainerInspect(cctx, in.Name, client.ContainerInspectOptions{})
	if err != nil {
		return nil, engineErr(err, "Container not found")
	}
	c := res.Container
	out := Inspect{Name: strings.TrimPrefix(c.Name, "/"), Created: c.Created, RestartCount: c.RestartCount,
		Env: []string{}, Ports: []PortMapping{}, Mounts: []Mount{}, Networks: []string{}, Runtime: runtimeName(ctx, cl)}
	if c.Config != nil {
		out.Image = c.Config.Image
		for _, e := range c.Config.Env {
			k, _, _ := strings.Cut(e, "=")
			out.Env = append(out.Env, k+"=***")
		}
	}
	if c.State != nil {
		out.Status, out.StartedAt = string(c.State.Status), c.State.StartedAt
		if c.State.Health != nil {
			out.Health = string(c.State.Health.Status)
		}
	}
	if c.NetworkSettings != nil {
		for p, bs := range c.NetworkSettings.Ports {
			pm := PortMapping{Container: p.String()}
			if len(bs) > 0 {
				pm.Host = bs[0].HostPort
			}
			out.Ports = append(out.Ports, pm)
		}
		sort.Slice(out.Ports, func(i, j int) bool { return out.Ports[i].Container < out.Ports[j].Container })
		for n := range c.NetworkSettings.Networks {
			out.Networks = append(out.Networks, n)
		}
		sort.Strings(out.Networks)
	}
	for _, m := range c.Mounts {
		out.Mounts = append(out.Mounts, Mount{Source: m.Source, Dest: m.Destination, Mode: m.Mode})
	}
	if c.HostConfig != nil {
		out.MemoryLimit, out.CPUShares = c.HostConfig.Memory, c.HostConfig.CPUShares
		out.RestartPolicy = string(c.HostConfig.RestartPolicy.Name)
	}
	return &inspectOut{Body: out}, nil
}

// Stat is one row of GET /api/containers/stats (all strings, as docker stats prints them).
type Stat struct {
	Name       string `json:"name"`
	CPU        string `json:"cpu"`
	MemUsage   string `json:"mem_usage"`
	MemPercent string `json:"mem_percent"`
	NetIO      string `json:"net_io"`
	BlockIO    string `json:"block_io"`
	PIDs       string `json:"pids"`
}

type statsOut struct{ Body []Stat }

func (r *Room) stats(ctx context.Context, _ *struct{}) (*statsOut, error) {
	out := &statsOut{Body: []Stat{}}
	cl, err := r.engine()
	if err != nil {
		return out, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	list, err := cl.ContainerList(cctx, client.ContainerListOptions{})
	if err != nil {
		if cctx.Err() != nil {
			return nil, gatewayTimeout("Stats fetch timed out")
		}
		r.d.Log.Warn("container list", "err", err)
		return out, nil
	}
	rows := make([]Stat, len(list.Items))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, c := range list.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			name := c.ID[:min(12, len(c.ID))]
			if len(c.Names) > 0 {
				name = strings.TrimPrefix(c.Names[0], "/")
			}
			rows[i] = sampleStats(cctx, cl, c.ID, name)
		}()
	}
	wg.Wait()
	if cctx.Err() != nil {
		return nil, gatewayTimeout("Stats fetch timed out")
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	out.Body = rows
	return out, nil
}

// sampleStats reads up to two frames of the streamed stats of a container
// (Podman's one-shot frame has no previous CPU sample) and formats them as
// docker stats does.
func sampleStats(ctx context.Context, cl *client.Client, id, name string) Stat {
	st := Stat{Name: name, CPU: "0.00%", MemUsage: "0B / 0B", MemPercent: "0.00%", NetIO: "0B / 0B", BlockIO: "0B / 0B", PIDs: "0"}
	sctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	res, err := cl.ContainerStats(sctx, id, client.ContainerStatsOptions{Stream: true})
	if err != nil {
		return st
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	var s container.StatsResponse
	for i := 0; i < 2; i++ {
		var f container.StatsResponse
		if err := dec.Decode(&f); err != nil {
			break
		}
		s = f
		if f.PreCPUStats.SystemUsage > 0 {
			break
		}
	}
	cpuDelta := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
	sysDelta := float64(s.CPUStats.SystemUsage) - float64(s.PreCPUStats.SystemUsage)
	cpus := float64(s.CPUStats.OnlineCPUs)
	if cpus == 0 {
		cpus = float64(len(s.CPUStats.CPUUsage.PercpuUsage))
	}
	if cpus == 0 {
		cpus = 1
	}
	if cpuDelta > 0 && sysDelta > 0 && s.PreCPUStats.SystemUsage > 0 {
		st.CPU = fmt.Sprintf("%.2f%%", cpuDelta/sysDelta*cpus*100)
	}
	used, limit := float64(s.MemoryStats.Usage), float64(s.MemoryStats.Limit)
	if c, ok := s.MemoryStats.Stats["inactive_file"]; ok && float64(c) < used {
		used -= float64(c)
	}
	st.MemUsage = humanBytes(used, false) + " / " + humanBytes(limit, false)
	if limit > 0 {
		st.MemPercent = fmt.Sprintf("%.2f%%", used/limit*100)
	}
	var rx, tx float64
	for _, n := range s.Networks {
		rx += float64(n.RxBytes)
		tx += float64(n.TxBytes)
	}
	st.NetIO = humanBytes(rx, true) + " / " + humanBytes(tx, true)
	var rd, wr float64
	for _, e := range s.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			rd += float64(e.Value)
		case "write":
			wr += float64(e.Value)
		}
	}
	st.BlockIO = humanBytes(rd, true) + " / " + humanBytes(wr, true)
	st.PIDs = strconv.FormatUint(s.PidsStats.Current, 10)
	return st
}

type containerPullOut struct {
	Body struct {
		Success bool   `json:"success"`
		RunID   *int64 `json:"run_id,omitempty"`
		Image   string `json:"image"`
		Output  string `json:"output,omitempty"`
	}
}

func (r *Room) pull(ctx context.Context, in *nameIn) (*containerPullOut, error) {
	if err := validName(in.Name); err != nil {
		return nil, err
	}
	cl, err := r.engine()
	if err != nil {
		return nil, err
	}
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	res, err := cl.ContainerInspect(ictx, in.Name, client.ContainerInspectOptions{})
	cancel()
	if err != nil {
		return nil, engineErr(err, "Container not found")
	}
	image := ""
	if res.Container.Config != nil {
		image = res.Container.Config.Image
	}
	if image == "" {
		return nil, httpx.NotFound("Container not found")
	}
	user := authz.Must(ctx).Username
	r.audit(ctx, "container_pull", fmt.Sprintf("Pulling %s for %s", image, in.Name))
	work := func(ctx context.Context) (string, error) { return pullImage(ctx, cl, image) }
	out := &containerPullOut{}
	out.Body.Image = image
	if r.d.Runs != nil {
		id, err := r.d.Runs.Submit(ctx, "image-pull:"+image, user, work)
		if err != nil {
			return nil, err
		}
		out.Body.Success, out.Body.RunID = true, &id
		return out, nil
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	log, err := work(pctx)
	if err != nil {
		return nil, httpx.BadGateway("Image pull failed: %s", firstLine(err.Error()))
	}
	out.Body.Success, out.Body.Output = true, runcmd.Tail(log, 2000)
	return out, nil
}

// pullImage pulls image and returns the progress messages as text.
func pullImage(ctx context.Context, cl *client.Client, image string) (string, error) {
	resp, err := cl.ImagePull(ctx, image, client.ImagePullOptions{})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return b.String(), err
		}
		if m.Error != nil {
			return b.String(), errors.New(m.Error.Message)
		}
		if m.Status != "" {
			b.WriteString(strings.TrimSpace(m.ID + " " + m.Status))
			b.WriteByte('\n')
		}
	}
	return b.String(), nil
}

// Project is one Compose project (the shape of docker compose ls --format json).
type Project struct {
	Name        string   `json:"Name"`
	Status      string   `json:"Status"`
	ConfigFiles string   `json:"ConfigFiles"`
	WorkingDir  string   `json:"WorkingDir,omitempty"`
	Services    []string `json:"Services"`
}

type projectsOut struct{ Body []Project }

func (r *Room) projects(ctx context.Context, _ *struct{}) (*projectsOut, error) {
	ps, err := r.listProjects(ctx)
	if err != nil {
		r.d.Log.Warn("compose projects", "err", err)
	}
	if ps == nil {
		ps = []Project{}
	}
	return &projectsOut{Body: ps}, nil
}

// listProjects groups the engine's containers by their Compose labels, and
// adds the projects of the composeProjects setting that have none.
func (r *Room) listProjects(ctx context.Context) ([]Project, error) {
	byName := map[string]*Project{}
	counts := map[string]map[string]int{}
	var lerr error
	if cl, err := r.engine(); err == nil {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		list, err := cl.ContainerList(cctx, client.ContainerListOptions{All: true,
			Filters: make(client.Filters).Add("label", "com.docker.compose.project")})
		if err != nil {
			lerr = err
		}
		for _, c := range list.Items {
			name := c.Labels["com.docker.compose.project"]
			if name == "" {
				continue
			}
			p := byName[name]
			if p == nil {
				wd := c.Labels["com.docker.compose.project.working_dir"]
				var files []string
				for _, f := range strings.Split(c.Labels["com.docker.compose.project.config_files"], ",") {
					if f = strings.TrimSpace(f); f == "" {
						continue
					}
					if !filepath.IsAbs(f) && wd != "" {
						f = filepath.Join(wd, f)
					}
					files = append(files, f)
				}
				p = &Project{Name: name, ConfigFiles: strings.Join(files, ","), WorkingDir: wd, Services: []string{}}
				byName[name], counts[name] = p, map[string]int{}
			}
			counts[name][string(c.State)]++
			if svc := c.Labels["com.docker.compose.service"]; svc != "" && !contains(p.Services, svc) {
				p.Services = append(p.Services, svc)
			}
		}
	} else {
		lerr = err
	}
	for _, cp := range configured(r.settings()) {
		if _, ok := byName[cp.Name]; !ok {
			p := cp
			p.Status = "down"
			byName[cp.Name] = &p
		}
	}
	out := make([]Project, 0, len(byName))
	for name, p := range byName {
		if c := counts[name]; len(c) > 0 {
			var parts []string
			for _, st := range sortedKeys(c) {
				parts = append(parts, fmt.Sprintf("%s(%d)", st, c[st]))
			}
			p.Status = strings.Join(parts, ", ")
		}
		sort.Strings(p.Services)
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, lerr
}

// configured reads the composeProjects setting: entries {name, path} or a
// compose file path (the project is named after its directory).
func configured(s map[string]any) []Project {
	list, _ := s["composeProjects"].([]any)
	var out []Project
	for _, e := range list {
		var name, path string
		switch v := e.(type) {
		case string:
			path = v
		case map[string]any:
			name, _ = v["name"].(string)
			path, _ = v["path"].(string)
			if path == "" {
				path, _ = v["file"].(string)
			}
		}
		path = strings.TrimSpace(path)
		if path == "" || !filepath.IsAbs(path) {
			continue
		}
		if !strings.HasSuffix(path, ".yml") && !strings.HasSuffix(path, ".yaml") {
			path = filepath.Join(path, "docker-compose.yml")
		}
		if name == "" {
			name = strings.ToLower(filepath.Base(filepath.Dir(path)))
		}
		if !projectRe.MatchString(name) {
			continue
		}
		out = append(out, Project{Name: name, ConfigFiles: path, WorkingDir: filepath.Dir(path), Services: []string{}})
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var projectRe = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

type composeIn struct {
	Project string `path:"project"`
	Action  string `path:"action"`
}

type composeActionOut struct {
	Body struct {
		Success bool   `json:"success"`
		Output  string `json:"output"`
	}
}

func (r *Room) compose(ctx context.Context, in *composeIn) (*composeActionOut, error) {
	switch in.Action {
	case "up", "down", "pull", "restart":
	default:
		return nil, httpx.Invalid("Invalid action")
	}
	if !projectRe.MatchString(in.Project) || strings.Contains(in.Project, "..") {
		return nil, httpx.Invalid("Invalid project name")
	}
	name, pre := "", []string(nil)
	switch {
	case r.d.Runner.Has("docker-compose"):
		name = "docker-compose"
	case r.d.Runner.Has("docker"):
		name, pre = "docker", []string{"compose"}
	default:
		return nil, errNoRuntime
	}
	ps, _ := r.listProjects(ctx)
	var proj *Project
	for i := range ps {
		if ps[i].Name == in.Project {
			proj = &ps[i]
		}
	}
	if proj == nil {
		return nil, httpx.NotFound("Compose project '%s' not found", in.Project)
	}
	args := append(pre, "-p", in.Project)
	if proj.WorkingDir != "" {
		args = append(args, "--project-directory", proj.WorkingDir)
	}
	for _, f := range strings.Split(proj.ConfigFiles, ",") {
		if f != "" {
			args = append(args, "-f", f)
		}
	}
	args = append(args, in.Action)
	if in.Action == "up" {
		args = append(args, "-d")
	}
	res, err := r.d.Runner.Run(ctx, runcmd.Cmd{Name: name, Args: args, Env: []string{"DOCKER_HOST=" + r.Host()}, Timeout: 120 * time.Second})
	switch {
	case errors.Is(err, runcmd.ErrTimeout):
		r.audit(ctx, "compose", fmt.Sprintf("%s %s -> timeout", in.Action, in.Project))
		return nil, gatewayTimeout("Command timed out")
	case errors.Is(err, runcmd.ErrNotFound):
		return nil, errNoRuntime
	case err != nil:
		return nil, err
	}
	ok := res.ExitCode == 0
	r.audit(ctx, "compose", fmt.Sprintf("%s %s -> %t", in.Action, in.Project, ok))
	out := &composeActionOut{}
	o := strings.TrimSpace(res.Stdout)
	if o == "" {
		o = strings.TrimSpace(res.Stderr)
	}
	out.Body.Success, out.Body.Output = ok, runcmd.Tail(StripANSI(o), 500)
	return out, nil
}

type vmIn struct {
	Body map[string]any
}

func (r *Room) truenasVM(ctx context.Context, in *vmIn) (*containerSuccessOut, error) {
	b := in.Body
	if b == nil {
		return nil, httpx.Invalid("Invalid VM ID")
	}
	var id int64
	switch v := b["id"].(type) {
	case float64:
		if v != float64(int64(v)) {
			return nil, httpx.Invalid("Invalid VM ID")
		}
		id = int64(v)
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, httpx.Invalid("Invalid VM ID")
		}
		id = n
	default:
		return nil, httpx.Invalid("Invalid VM ID")
	}
	action, _ := b["action"].(string)
	switch action {
	case "start", "stop", "restart", "poweroff":
	default:
		return nil, httpx.Invalid("Invalid request")
	}
	if id < 0 {
		return nil, httpx.Invalid("Invalid request")
	}
	s := r.settings()
	base, key := strings.TrimRight(str(s, "truenasUrl"), "/"), str(s, "truenasKey")
	if base == "" || key == "" {
		return nil, httpx.Invalid("TrueNAS API not configured")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/api/v2.0/vm/id/%d/%s", base, id, action), strings.NewReader("{}"))
	if err != nil {
		return nil, httpx.Invalid("TrueNAS API not configured")
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.d.HTTP.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
	}
	if err != nil {
		r.audit(ctx, "vm_action", fmt.Sprintf("VM %d %s failed: %s", id, action, firstLine(err.Error())))
		return nil, httpx.BadGateway("VM action failed")
	}
	r.audit(ctx, "vm_action", fmt.Sprintf("VM %d %s true", id, action))
	out := &containerSuccessOut{}
	out.Body.Success = true
	return out, nil
}
