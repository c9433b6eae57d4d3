package healing

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Graph is the healing dependency topology (§6.6).
type Graph struct {
	nodes map[string]gnode
}

type gnode struct {
	target, nodeType, site string
	deps                   []string
}

// Graph loads the topology: the healingDependencies setting (synced into
// dependency_graph) and auto-discovered confirmed rows.
func (r *Room) Graph(ctx context.Context) (*Graph, error) {
	if err := r.syncConfigGraph(ctx); err != nil {
		return nil, err
	}
	rows, err := r.d.Store.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	g := &Graph{nodes: map[string]gnode{}}
	for _, n := range rows {
		if n.Confirmed == 0 {
			continue
		}
		deps, _ := parseDeps(n.DependsOn)
		site := ""
		if n.Site != nil {
			site = *n.Site
		}
		g.nodes[n.Target] = gnode{target: n.Target, nodeType: n.NodeType, site: site, deps: deps}
	}
	return g, nil
}

func parseDeps(v any) ([]string, bool) {
	switch d := v.(type) {
	case nil:
		return nil, true
	case string:
		if strings.TrimSpace(d) == "" {
			return nil, true
		}
		var arr []any
		if err := json.Unmarshal([]byte(d), &arr); err != nil {
			return nil, false
		}
		return parseDeps(arr)
	case []any:
		out := []string{}
		for _, x := range d {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func stripType(dep string) string {
	if _, after, ok := strings.Cut(dep, ":"); ok {
		return after
	}
	return dep
}

// syncConfigGraph writes the healingDependencies setting into the table
// when it changed.
func (r *Room) syncConfigGraph(ctx context.Context) error {
	if r.d.Settings == nil {
		return nil
	}
	set := r.d.Settings.View() // shared: read only
	list, _ := set["healingDependencies"].([]any)
	edges, _ := set["serviceDependencies"].(string)
	sig := jsonText(list) + "|" + edges
	r.p.mu.Lock()
	same := r.graphSig == sig
	r.p.mu.Unlock()
	if same {
		return nil
	}
	var nodes []Node
	for _, e := range list {
		m, _ := e.(map[string]any)
		t := str(m, "target")
		if t == "" {
			continue
		}
		deps, _ := parseDeps(m["depends_on"])
		nt := orDefault(str(m, "type"), orDefault(str(m, "node_type"), "service"))
		n := Node{Target: t, DependsOn: jsonText(orEmpty(deps)), NodeType: nt}
		if s := str(m, "site"); s != "" {
			n.Site = &s
		}
		if h := str(m, "health_check"); h != "" {
			n.HealthCheck = &h
		}
		nodes = append(nodes, n)
	}
	// serviceDependencies: "A>B" edges, A depends on B (spec 30 §2.4).
	byTarget := map[string]int{}
	for i, n := range nodes {
		byTarget[n.Target] = i
	}
	extra := map[string][]string{}
	var order []string
	for _, item := range strings.Split(edges, ",") {
		a, b, ok := strings.Cut(item, ">")
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		if !ok || a == "" || b == "" {
			continue
		}
		for _, t := range []string{a, b} {
			if _, seen := extra[t]; !seen {
				extra[t] = nil
				order = append(order, t)
			}
		}
		extra[a] = append(extra[a], b)
	}
	for _, t := range order {
		if i, ok := byTarget[t]; ok {
			cur, _ := parseDeps(nodes[i].DependsOn)
			nodes[i].DependsOn = jsonText(append(cur, extra[t]...))
			continue
		}
		nodes = append(nodes, Node{Target: t, DependsOn: jsonText(orEmpty(extra[t])), NodeType: "service"})
	}
	if err := r.d.Store.ReplaceConfigNodes(ctx, nodes, r.now().Unix()); err != nil {
		return fmt.Errorf("dependency graph: %w", err)
	}
	r.p.mu.Lock()
	r.graphSig = sig
	r.p.mu.Unlock()
	return nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Ancestors of x: transitive depends_on, cycle-safe, depth-first.
func (g *Graph) Ancestors(x string) []string {
	var out []string
	seen := map[string]bool{x: true}
	var walk func(string)
	walk = func(t string) {
		for _, d := range g.nodes[t].deps {
			d = stripType(d)
			if seen[d] {
				continue
			}
			seen[d] = true
			out = append(out, d)
			walk(d)
		}
	}
	walk(x)
	return out
}

// Descendants of x: everything that transitively depends on x.
func (g *Graph) Descendants(x string) []string {
	var out []string
	for t := range g.nodes {
		if t != x && slices.Contains(g.Ancestors(t), x) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// RootCause of a failing set (§6.6).
func (g *Graph) RootCause(failing []string) (string, []string) {
	if len(failing) == 0 {
		return "", nil
	}
	var cands []string
	for _, f := range failing {
		hasAnc := false
		for _, a := range g.Ancestors(f) {
			if slices.Contains(failing, a) {
				hasAnc = true
			}
		}
		if !hasAnc {
			cands = append(cands, f)
		}
	}
	if len(cands) == 0 {
		cands = slices.Clone(failing)
	}
	sort.Strings(cands)
	best, bestN := "", -1
	for _, c := range cands {
		n := 0
		for _, d := range g.Descendants(c) {
			if slices.Contains(failing, d) {
				n++
			}
		}
		if n > bestN {
			best, bestN = c, n
		}
	}
	var sup []string
	for _, d := range g.Descendants(best) {
		if slices.Contains(failing, d) {
			sup = append(sup, d)
		}
	}
	return best, sup
}

// Suppress reports why target's heal is suppressed: its site is suspect,
// or an ancestor is actively failing (the ancestor is the root).
func (g *Graph) Suppress(target string, active map[string]time.Time, suspect map[string]string) (root, why string) {
	n, ok := g.nodes[target]
	if !ok {
		return "", ""
	}
	if n.site != "" {
		if reason, bad := suspect[n.site]; bad {
			return n.site, fmt.Sprintf("Site %s connectivity suspect: %s", n.site, reason)
		}
	}
	anc := g.Ancestors(target)
	for i := len(anc) - 1; i >= 0; i-- {
		if _, failing := active[anc[i]]; failing {
			return anc[i], "Downstream of root cause: " + anc[i]
		}
	}
	return "", ""
}

// SuspectSites marks a site connectivity-suspect when every known agent
// among its nodes is offline at once (§6.6 fix).
func (g *Graph) SuspectSites(known, online []string) map[string]string {
	hosts := map[string][]string{}
	for _, n := range g.nodes {
		if n.site != "" && slices.Contains(known, n.target) {
			hosts[n.site] = append(hosts[n.site], n.target)
		}
	}
	out := map[string]string{}
	for site, hs := range hosts {
		up := false
		for _, h := range hs {
			up = up || slices.Contains(online, h)
		}
		if !up {
			out[site] = fmt.Sprintf("all %d agents offline", len(hs))
		}
	}
	return out
}
