package automations

import (
	"regexp"
	"strconv"
	"strings"
)

var clauseRe = regexp.MustCompile(`^\s*([A-Za-z0-9_\[\].]+)\s*(>=|<=|==|!=|>|<)\s*([0-9.\-]+)\s*$`)

// validCondition reports whether every clause of expr parses.
func validCondition(expr string) bool {
	if strings.TrimSpace(expr) == "" {
		return false
	}
	for _, c := range splitClauses(expr) {
		if !clauseRe.MatchString(c) {
			return false
		}
	}
	return true
}

func splitClauses(expr string) []string {
	switch {
	case strings.Contains(expr, " AND "):
		return strings.Split(expr, " AND ")
	case strings.Contains(expr, " OR "):
		return strings.Split(expr, " OR ")
	}
	return []string{expr}
}

// evalCondition evaluates expr (spec 30 §0.4) against the flat
// metrics. A missing metric, a non-numeric value or an
// unparsable clause is false.
func evalCondition(expr string, metrics map[string]any) bool {
	if strings.TrimSpace(expr) == "" {
		return false
	}
	and := strings.Contains(expr, " AND ")
	clauses := splitClauses(expr)
	for _, c := range clauses {
		v := evalClause(c, metrics)
		if and && !v {
			return false
		}
		if !and && v {
			return true
		}
	}
	return and
}

func evalClause(c string, metrics map[string]any) bool {
	m := clauseRe.FindStringSubmatch(c)
	if m == nil {
		return false
	}
	want, err := strconv.ParseFloat(m[3], 64)
	if err != nil {
		return false
	}
	got, ok := numeric(metrics[m[1]])
	if !ok {
		return false
	}
	switch m[2] {
	case ">":
		return got > want
	case "<":
		return got < want
	case ">=":
		return got >= want
	case "<=":
		return got <= want
	case "==":
		return got == want
	case "!=":
		return got != want
	}
	return false
}

func numeric(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}
