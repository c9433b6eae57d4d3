package integrations

import (
	"sort"
	"strings"
)

// BlastRadius reads the serviceDependencies setting ("A>B, C>B": A depends
// on B) and returns, for node, the services that depend on it transitively
// (its blast radius) and those it depends on transitively, both sorted.
func BlastRadius(deps, node string) (dependents, dependencies []string) {
	up := map[string][]string{}   // B -> the A's depending on B
	down := map[string][]string{} // A -> the B's A depends on
	for _, item := range strings.Split(deps, ",") {
		a, b, ok := strings.Cut(item, ">")
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		if !ok || a == "" || b == "" {
			continue
		}
		up[b] = append(up[b], a)
		down[a] = append(down[a], b)
	}
	return walk(up, node), walk(down, node)
}

// walk returns every node reachable from start through edges (start left out), sorted.
func walk(edges map[string][]string, start string) []string {
	seen := map[string]bool{start: true}
	queue := []string{start}
	out := []string{}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, m := range edges[n] {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
				queue = append(queue, m)
			}
		}
	}
	sort.Strings(out)
	return out
}
