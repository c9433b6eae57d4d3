package condition

import (
	"regexp"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	cases := []struct {
		in    string
		join  Join
		terms []Term
	}{
		{"cpuPercent > 90", Single, []Term{{"cpuPercent", GT, 90, "90"}}},
		{"  disks[0].percent>=75.5 ", Single, []Term{{"disks[0].percent", GE, 75.5, "75.5"}}},
		{"cpu_percent > 80 AND mem_percent < -1", And, []Term{{"cpu_percent", GT, 80, "80"}, {"mem_percent", LT, -1, "-1"}}},
		{"a == 1 OR b != .5 OR c <= 3.", Or, []Term{{"a", EQ, 1, "1"}, {"b", NE, .5, ".5"}, {"c", LE, 3, "3."}}},
		{"agents[1].cpu_percent > 50", Single, []Term{{"agents[1].cpu_percent", GT, 50, "50"}}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			c, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if c.Join != tc.join || len(c.Terms) != len(tc.terms) {
				t.Fatalf("got %+v, want join %v terms %+v", c, tc.join, tc.terms)
			}
			for i := range tc.terms {
				if c.Terms[i] != tc.terms[i] {
					t.Errorf("term %d: got %+v, want %+v", i, c.Terms[i], tc.terms[i])
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const tail = " — expected 'metric operator number' (e.g. cpuPercent > 90)"
	cases := []struct{ in, want string }{
		{"", "Condition is required"},
		{"   ", "Condition is required"},
		{">", "Invalid condition fragment: '>'" + tail},
		{"cpuPercent > 90 AND >", "Invalid condition fragment: '>'" + tail},
		{"a > 1 AND b > 2 OR c > 3", "Invalid condition fragment: 'b > 2 OR c > 3'" + tail},
		{"cpu > 1.2.3", "Invalid condition fragment: 'cpu > 1.2.3'" + tail},
		{"cpu > abc", "Invalid condition fragment: 'cpu > abc'" + tail},
		{"__import__('os') > 1", `Invalid condition fragment: "__import__('os') > 1"` + tail},
		{"cpu >> 1", "Invalid condition fragment: 'cpu >> 1'" + tail},
		{"disks[x].percent > 1", "Invalid condition fragment: 'disks[x].percent > 1'" + tail},
		{"a. > 1", "Invalid condition fragment: 'a. > 1'" + tail},
		{"a > -", "Invalid condition fragment: 'a > -'" + tail},
		{"a > 1e5", "Invalid condition fragment: 'a > 1e5'" + tail},
		{"a > 1 and b > 2", "Invalid condition fragment: 'a > 1 and b > 2'" + tail},
		{"a > 1 AND  AND b > 2", "Invalid condition fragment: ''" + tail},
		{"a\\b > 1", `Invalid condition fragment: 'a\\b > 1'` + tail},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) accepted", tc.in)
			}
			if err.Error() != tc.want {
				t.Errorf("got %q, want %q", err.Error(), tc.want)
			}
		})
	}
}

func TestEval(t *testing.T) {
	m := map[string]float64{"cpu": 95, "mem": 10, "zero": 0}
	get := func(k string) (float64, bool) { v, ok := m[k]; return v, ok }
	cases := []struct {
		in   string
		want bool
	}{
		{"cpu > 90", true}, {"cpu > 95", false}, {"cpu >= 95", true}, {"cpu < 96", true}, {"cpu <= 94", false},
		{"cpu == 95", true}, {"cpu != 95", false}, {"missing > -1", false}, {"missing != 1", false},
		{"cpu > 90 AND mem > 5", true}, {"cpu > 90 AND mem > 50", false},
		{"cpu > 99 OR mem > 5", true}, {"cpu > 99 OR mem > 50", false}, {"zero == 0", true},
	}
	for _, tc := range cases {
		c, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if got := c.Eval(get); got != tc.want {
			t.Errorf("%q: got %v, want %v", tc.in, got, tc.want)
		}
	}
}

// reference is the original's fragment grammar (spec 10 §5.2); everything
// Parse accepts must match it, fragment by fragment.
var reference = regexp.MustCompile(`^\s*([a-zA-Z0-9_\[\]\.]+)\s*(>|<|>=|<=|==|!=)\s*([0-9\.-]+)\s*$`)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"cpuPercent > 90", "a > 1 AND b < 2", "x == 1 OR y != 2", ">", "", "disks[0].percent >= 9.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse(%q) returned both a condition and an error", s)
			}
			var e *Error
			if !strings.HasPrefix(err.Error(), "Invalid condition fragment: ") && err.Error() != "Condition is required" {
				t.Fatalf("Parse(%q): unexpected error text %q (%T %v)", s, err, err, e)
			}
			return
		}
		if len(c.Terms) == 0 {
			t.Fatalf("Parse(%q) accepted with no terms", s)
		}
		sep := ""
		switch c.Join {
		case And:
			sep = " AND "
		case Or:
			sep = " OR "
		}
		frags := []string{s}
		if sep != "" {
			frags = strings.Split(s, sep)
		}
		if len(frags) != len(c.Terms) {
			t.Fatalf("Parse(%q): %d terms from %d fragments", s, len(c.Terms), len(frags))
		}
		for _, fr := range frags {
			if !reference.MatchString(fr) {
				t.Fatalf("Parse(%q) accepted fragment %q that the reference grammar rejects", s, fr)
			}
		}
		again, err := Parse(c.String())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", c.String(), s, err)
		}
		if again.String() != c.String() || again.Join != c.Join && len(c.Terms) > 1 {
			t.Fatalf("round trip of %q: %q != %q", s, again.String(), c.String())
		}
		for i := range c.Terms {
			if again.Terms[i] != c.Terms[i] {
				t.Fatalf("round trip of %q: term %d %+v != %+v", s, i, again.Terms[i], c.Terms[i])
			}
		}
	})
}
