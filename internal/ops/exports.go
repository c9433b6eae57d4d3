package ops

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// discovered holds the latest container_list and discover_services
// results of an agent.
type discovered struct {
	containers []Container
	services   []string
	haveC      bool
	haveS      bool
}

// Container is a container an agent listed.
type Container struct {
	Name   string
	Image  string
	Ports  string
	Status string
}

// OnContainerList keeps an agent's container_list result (hook of the agents room).
func (r *Room) OnContainerList(_ context.Context, host string, res map[string]any) {
	if s, _ := res["status"].(string); s != "ok" {
		return
	}
	list, _ := res["containers"].([]any)
	cs := []Container{}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		c := Container{}
		c.Name, _ = m["name"].(string)
		c.Image, _ = m["image"].(string)
		c.Ports, _ = m["ports"].(string)
		c.Status, _ = m["status"].(string)
		if c.Name != "" && c.Image != "" {
			cs = append(cs, c)
		}
	}
	r.discMu.Lock()
	defer r.discMu.Unlock()
	d := r.entry(host)
	d.containers, d.haveC = cs, true
}

// OnDiscoverServices keeps an agent's discover_services result.
func (r *Room) OnDiscoverServices(_ context.Context, host string, res map[string]any) {
	if s, _ := res["status"].(string); s != "ok" {
		return
	}
	list, _ := res["services"].([]any)
	var svcs []string
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		if st, has := m["state"].(string); has && st != "running" && st != "active" {
			continue
		}
		// Discovered services carry no state: they were running when seen.
		name = strings.TrimSuffix(name, ".service")
		if ValidUnit(name) && !strings.HasPrefix(name, "port-") && !contains(svcs, name) {
			svcs = append(svcs, name)
		}
	}
	sort.Strings(svcs)
	r.discMu.Lock()
	defer r.discMu.Unlock()
	d := r.entry(host)
	d.services, d.haveS = svcs, true
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (r *Room) entry(host string) *discovered {
	d := r.disc[host]
	if d == nil {
		d = &discovered{}
		r.disc[host] = d
	}
	return d
}

// hostData is what an export knows about one online agent.
type hostData struct {
	Hostname   string
	Platform   string
	Containers []Container
	Services   []string
}

func (r *Room) online() map[string]map[string]any {
	out := map[string]map[string]any{}
	if r.d.Agents == nil {
		return out
	}
	for _, a := range r.d.Agents.AgentList() {
		if on, _ := a["online"].(bool); !on {
			continue
		}
		if h, _ := a["hostname"].(string); h != "" {
			out[h] = a
		}
	}
	return out
}

func (r *Room) data(host string, agent map[string]any) hostData {
	hd := hostData{Hostname: host}
	hd.Platform, _ = agent["platform"].(string)
	r.discMu.Lock()
	defer r.discMu.Unlock()
	if d := r.disc[host]; d != nil {
		hd.Containers = append(hd.Containers, d.containers...)
		hd.Services = append(hd.Services, d.services...)
	}
	return hd
}

// discoverHost asks an agent for its containers and services (Run waits for
// the results; the hooks store them) and returns a warning or "".
func (r *Room) discoverHost(ctx context.Context, host, by string, timeout time.Duration) string {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var missing []string
	var failed bool
	for _, cmd := range []string{"discover_services", "container_list"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.d.Agents.Run(ctx, host, cmd, map[string]any{}, by, timeout)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = true
				return
			}
			if res == nil {
				missing = append(missing, cmd)
			} else if st, _ := res["status"].(string); st != "ok" {
				msg, _ := res["error"].(string)
				missing = append(missing, strings.TrimSpace(cmd+" ("+msg+")"))
			}
		}()
	}
	wg.Wait()
	if failed {
		return "Failed to send discovery commands"
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return "Discovery partial - missing: " + strings.Join(missing, ", ")
	}
	return ""
}

type opsExportIn struct {
	Hostname string `query:"hostname"`
	Discover string `query:"discover"`
}

type opsExportOut struct {
	ContentType string `header:"Content-Type"`
	Warning     string `header:"X-Noba-Discovery-Warning"`
	Body        []byte
}

var hostRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,252}$`)

// gather validates the input, runs discovery when asked, and returns the
// online agents' data (all of them when host is "").
func (r *Room) gather(ctx context.Context, in *opsExportIn, needHost bool) ([]hostData, string, error) {
	host := strings.TrimSpace(in.Hostname)
	if host == "" && needHost {
		return nil, "", httpx.Invalid("hostname parameter is required")
	}
	if host != "" && !hostRe.MatchString(host) {
		return nil, "", httpx.Invalid("Invalid hostname")
	}
	on := r.online()
	var hosts []string
	for h := range on {
		if host == "" || h == host {
			hosts = append(hosts, h)
		}
	}
	sort.Strings(hosts)
	var warns []string
	if d := strings.ToLower(in.Discover); (d == "true" || d == "1") && r.d.Agents != nil {
		by := authz.Must(ctx).Username
		timeout := 10 * time.Second
		if host != "" {
			timeout = 15 * time.Second
		}
		for _, h := range hosts {
			if w := r.discoverHost(ctx, h, by, timeout); w != "" {
				if host != "" {
					warns = append(warns, w)
				} else {
					warns = append(warns, h+": "+w)
				}
			}
		}
	}
	out := make([]hostData, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, r.data(h, on[h]))
	}
	return out, strings.Join(warns, "; "), nil
}

// PortMappings converts a docker ps port string ("0.0.0.0:8080->80/tcp,
// :::8080->80/tcp, 9000/tcp") into compose/run mappings ("8080:80/tcp");
// ports that are not published are left out.
func PortMappings(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		hostPart, ctr, ok := strings.Cut(p, "->")
		if !ok {
			continue
		}
		hp := hostPart
		if i := strings.LastIndex(hostPart, ":"); i >= 0 {
			hp = hostPart[i+1:]
		}
		m := hp + ":" + ctr
		if !strings.HasSuffix(ctr, "/udp") {
			m = hp + ":" + strings.TrimSuffix(ctr, "/tcp") + "/tcp"
		}
		if !portRe.MatchString(m) || contains(out, m) {
			continue
		}
		out = append(out, m)
	}
	return out
}

var portRe = regexp.MustCompile(`^[0-9]{1,5}(-[0-9]{1,5})?:[0-9]{1,5}(-[0-9]{1,5})?/(tcp|udp)$`)

var svcKeyRe = regexp.MustCompile(`[^a-z0-9-]`)

func header(kind string, now time.Time, host string) string {
	h := "# Auto-generated by NOBA Command Center\n# " + kind + "\n# Generated: " + now.UTC().Format("2006-01-02 15:04:05 UTC") + "\n"
	if host != "" {
		h += "# Host: " + host + "\n"
	}
	return h
}

type composeService struct {
	ContainerName string   `yaml:"container_name"`
	Image         string   `yaml:"image"`
	Restart       string   `yaml:"restart"`
	Ports         []string `yaml:"ports,omitempty"`
}

func (r *Room) exportCompose(ctx context.Context, in *opsExportIn) (*opsExportOut, error) {
	hosts, warn, err := r.gather(ctx, in, true)
	if err != nil {
		return nil, err
	}
	host := strings.TrimSpace(in.Hostname)
	out := &opsExportOut{ContentType: "text/yaml; charset=utf-8", Warning: warn}
	if len(hosts) == 0 {
		out.Body = []byte("# No online agent found for hostname: " + yamlComment(host) + "\n")
		return out, nil
	}
	h := hosts[0]
	text := header("docker-compose.yml", r.d.Now(), h.Hostname)
	if len(h.Containers) == 0 {
		out.Body = []byte(text + "# No containers discovered on this host.\nversion: \"3.8\"\nservices: {}\n")
		return out, nil
	}
	svcs := map[string]composeService{}
	var paused []string
	for _, c := range h.Containers {
		key := svcKeyRe.ReplaceAllString(strings.NewReplacer(".", "-", "_", "-").Replace(strings.ToLower(c.Name)), "-")
		key = strings.Trim(key, "-")
		if key == "" {
			continue
		}
		for base, i := key, 2; ; i++ {
			if _, dup := svcs[key]; !dup {
				break
			}
			key = fmt.Sprintf("%s-%d", base, i)
		}
		svcs[key] = composeService{ContainerName: c.Name, Image: c.Image, Restart: "unless-stopped", Ports: PortMappings(c.Ports)}
		if strings.Contains(strings.ToLower(c.Status), "paused") {
			paused = append(paused, key)
		}
	}
	// version: Debian's docker-compose (v1) reads a file without it as the legacy format.
	b, err := yaml.Marshal(struct {
		Version  string                    `yaml:"version"`
		Services map[string]composeService `yaml:"services"`
	}{"3.8", svcs})
	if err != nil {
		return nil, fmt.Errorf("compose yaml: %w", err)
	}
	for _, p := range paused {
		text += "# Service " + p + " was paused when discovered.\n"
	}
	out.Body = []byte(text + string(b))
	return out, nil
}

func yamlComment(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

type ansibleTask struct {
	Name      string         `yaml:"name"`
	Package   map[string]any `yaml:"ansible.builtin.package,omitempty"`
	Systemd   map[string]any `yaml:"ansible.builtin.systemd,omitempty"`
	Container map[string]any `yaml:"community.docker.docker_container,omitempty"`
	Debug     map[string]any `yaml:"ansible.builtin.debug,omitempty"`
}

type ansiblePlay struct {
	Name   string        `yaml:"name"`
	Hosts  string        `yaml:"hosts"`
	Become bool          `yaml:"become"`
	Tasks  []ansibleTask `yaml:"tasks"`
}

func (r *Room) exportAnsible(ctx context.Context, in *opsExportIn) (*opsExportOut, error) {
	hosts, warn, err := r.gather(ctx, in, false)
	if err != nil {
		return nil, err
	}
	out := &opsExportOut{ContentType: "text/yaml; charset=utf-8", Warning: warn}
	text := "---\n" + header("Ansible playbook", r.d.Now(), "")
	if len(hosts) == 0 {
		out.Body = []byte(text + "# No online agents found.\n[]\n")
		return out, nil
	}
	plays := []ansiblePlay{}
	for _, h := range hosts {
		p := ansiblePlay{Name: "Configure " + h.Hostname, Hosts: h.Hostname, Become: true, Tasks: []ansibleTask{}}
		for _, s := range h.Services {
			p.Tasks = append(p.Tasks, ansibleTask{Name: "Ensure " + s + " is running",
				Systemd: map[string]any{"name": s, "state": "started", "enabled": true}})
		}
		for _, c := range h.Containers {
			args := map[string]any{"name": c.Name, "image": c.Image, "state": "started", "restart_policy": "unless-stopped"}
			if ps := PortMappings(c.Ports); len(ps) > 0 {
				args["ports"] = ps
			}
			p.Tasks = append(p.Tasks, ansibleTask{Name: "Container " + c.Name, Container: args})
		}
		if len(p.Tasks) == 0 {
			p.Tasks = append(p.Tasks, ansibleTask{Name: "Placeholder",
				Debug: map[string]any{"msg": "No services/packages/containers discovered on " + h.Hostname}})
		}
		plays = append(plays, p)
	}
	b, err := yaml.Marshal(plays)
	if err != nil {
		return nil, fmt.Errorf("ansible yaml: %w", err)
	}
	out.Body = []byte(text + string(b))
	return out, nil
}

// shq quotes s for bash as one word.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (r *Room) exportShell(ctx context.Context, in *opsExportIn) (*opsExportOut, error) {
	hosts, warn, err := r.gather(ctx, in, true)
	if err != nil {
		return nil, err
	}
	out := &opsExportOut{ContentType: "text/x-shellscript; charset=utf-8", Warning: warn}
	if len(hosts) == 0 {
		out.Body = []byte("#!/bin/bash\n# No online agent found for hostname: " + yamlComment(strings.TrimSpace(in.Hostname)) + "\nexit 1\n")
		return out, nil
	}
	h := hosts[0]
	var b strings.Builder
	b.WriteString("#!/bin/bash\n# Auto-generated by NOBA Command Center\n")
	fmt.Fprintf(&b, "# Host: %s\n# Platform: %s\n# Generated: %s\n", yamlComment(h.Hostname), yamlComment(h.Platform),
		r.d.Now().UTC().Format("2006-01-02 15:04:05 UTC"))
	b.WriteString("set -euo pipefail\n\n")
	b.WriteString("echo \"=== Services ===\"\n")
	if len(h.Services) == 0 {
		b.WriteString("# No running services discovered.\n")
	}
	for _, s := range h.Services {
		fmt.Fprintf(&b, "systemctl enable --now %s || true\n", shq(s))
	}
	b.WriteString("\necho \"=== Containers ===\"\n")
	if len(h.Containers) == 0 {
		b.WriteString("# No containers discovered.\n")
	} else {
		b.WriteString("if command -v docker >/dev/null 2>&1; then\n  RUNTIME=docker\nelif command -v podman >/dev/null 2>&1; then\n  RUNTIME=podman\nelse\n  echo \"No container runtime (docker or podman) found\" >&2\n  exit 1\nfi\n")
		for _, c := range h.Containers {
			fmt.Fprintf(&b, "\"$RUNTIME\" run -d --name %s --restart unless-stopped", shq(c.Name))
			for _, p := range PortMappings(c.Ports) {
				fmt.Fprintf(&b, " -p %s", shq(p))
			}
			fmt.Fprintf(&b, " %s\n", shq(c.Image))
		}
	}
	b.WriteString("\necho \"=== Setup complete ===\"\n")
	out.Body = []byte(b.String())
	return out, nil
}
