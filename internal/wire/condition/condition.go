// Package condition is the one condition grammar of NOBA (spec 10 §5.2,
// spec 30 §0.4): `metric operator number` fragments joined by ` AND ` or
// ` OR `, never mixed. Alert rules, the condition automation and graph
// node, heal re-checks and verification on the server, and the agent's
// heal rules all parse and evaluate with it, against the flat metrics of
// events.Snapshot.Metrics (or the agent's own). It is a small
// hand-written parser; nothing is ever evaluated as code.
package condition

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Op is a comparison operator.
type Op string

// The operators of the grammar.
const (
	GT Op = ">"
	LT Op = "<"
	GE Op = ">="
	LE Op = "<="
	EQ Op = "=="
	NE Op = "!="
)

// Join is how the terms of a condition combine.
type Join int

// Joins: a single term, all terms (AND) or any term (OR).
const (
	Single Join = iota
	And
	Or
)

// Term is one `metric operator number` fragment.
type Term struct {
	Metric string
	Op     Op
	Value  float64
	// Number is the threshold as written (kept for String).
	Number string
}

// Condition is a parsed condition.
type Condition struct {
	Join  Join
	Terms []Term
}

// Error is a validation error whose Message is shown to users verbatim.
type Error struct{ Message string }

// Error implements error.
func (e *Error) Error() string { return e.Message }

// Parse validates and parses s. Errors carry the reference wording:
// "Condition is required" or "Invalid condition fragment: '<f>' — expected
// 'metric operator number' (e.g. cpuPercent > 90)".
func Parse(s string) (*Condition, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &Error{Message: "Condition is required"}
	}
	c := &Condition{Join: Single}
	parts := []string{s}
	switch {
	case strings.Contains(s, " AND "):
		c.Join, parts = And, strings.Split(s, " AND ")
	case strings.Contains(s, " OR "):
		c.Join, parts = Or, strings.Split(s, " OR ")
	}
	for _, p := range parts {
		t, ok := parseTerm(p)
		if !ok {
			return nil, &Error{Message: fmt.Sprintf("Invalid condition fragment: %s — expected 'metric operator number' (e.g. cpuPercent > 90)",
				PyRepr(trimSpace(p)))}
		}
		c.Terms = append(c.Terms, t)
	}
	return c, nil
}

// Validate returns the validation error of s, or nil.
func Validate(s string) error {
	_, err := Parse(s)
	return err
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v'
}

func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

func isWord(b byte) bool {
	return b == '_' || (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// parseTerm reads `ws* metric ws* op ws* number ws*`.
//
//	metric  = segment ( "." segment )*
//	segment = word+ ( "[" digit+ "]" )*
//	number  = "-"? ( digit+ ( "." digit* )? | "." digit+ )
func parseTerm(s string) (Term, bool) {
	s = trimSpace(s)
	i := 0
	// metric
	start := i
	for {
		j := i
		for i < len(s) && isWord(s[i]) {
			i++
		}
		if i == j {
			return Term{}, false
		}
		for i < len(s) && s[i] == '[' {
			i++
			k := i
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			if i == k || i >= len(s) || s[i] != ']' {
				return Term{}, false
			}
			i++
		}
		if i < len(s) && s[i] == '.' {
			i++
			continue
		}
		break
	}
	metric := s[start:i]
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	// operator
	var op Op
	switch {
	case strings.HasPrefix(s[i:], ">="):
		op = GE
	case strings.HasPrefix(s[i:], "<="):
		op = LE
	case strings.HasPrefix(s[i:], "=="):
		op = EQ
	case strings.HasPrefix(s[i:], "!="):
		op = NE
	case strings.HasPrefix(s[i:], ">"):
		op = GT
	case strings.HasPrefix(s[i:], "<"):
		op = LT
	default:
		return Term{}, false
	}
	i += len(op)
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	// number: the rest of the (trimmed) fragment
	num := s[i:]
	if !validNumber(num) {
		return Term{}, false
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return Term{}, false
	}
	return Term{Metric: metric, Op: op, Value: v, Number: num}, true
}

func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	d := 0
	for i < len(s) && isDigit(s[i]) {
		i, d = i+1, d+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i, d = i+1, d+1
		}
	}
	return d > 0 && i == len(s)
}

// Eval evaluates the condition; get returns a metric's value and whether it
// exists. A missing metric makes its term false.
func (c *Condition) Eval(get func(metric string) (float64, bool)) bool {
	if c == nil || len(c.Terms) == 0 {
		return false
	}
	for _, t := range c.Terms {
		r := t.Eval(get)
		switch c.Join {
		case Or:
			if r {
				return true
			}
		default:
			if !r {
				return false
			}
		}
	}
	return c.Join != Or
}

// Eval evaluates one term.
func (t Term) Eval(get func(metric string) (float64, bool)) bool {
	v, ok := get(t.Metric)
	if !ok || math.IsNaN(v) {
		return false
	}
	switch t.Op {
	case GT:
		return v > t.Value
	case LT:
		return v < t.Value
	case GE:
		return v >= t.Value
	case LE:
		return v <= t.Value
	case EQ:
		return v == t.Value
	case NE:
		return v != t.Value
	}
	return false
}

// Metrics lists the metric names the condition reads, in order.
func (c *Condition) Metrics() []string {
	out := make([]string, 0, len(c.Terms))
	for _, t := range c.Terms {
		out = append(out, t.Metric)
	}
	return out
}

// String renders the condition in canonical form; parsing it again gives
// an equal condition.
func (c *Condition) String() string {
	parts := make([]string, len(c.Terms))
	for i, t := range c.Terms {
		parts[i] = t.Metric + " " + string(t.Op) + " " + t.Number
	}
	sep := " AND "
	if c.Join == Or {
		sep = " OR "
	}
	return strings.Join(parts, sep)
}

// PyRepr quotes s the way Python's repr() quotes a str: single quotes,
// or double quotes when s contains a single quote and no double quote,
// with backslashes and non-printable characters escaped.
func PyRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0xfffd:
			b.WriteRune(r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
