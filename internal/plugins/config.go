package plugins

import (
	"fmt"
	"strconv"
	"strings"
)

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case float64:
		return x == 0
	case bool:
		return !x
	case []any:
		return len(x) == 0
	}
	return false
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// validate checks values against the schema (spec 10 §9.10) and returns
// the values to save, or every problem joined by "; ".
func validate(schema map[string]Field, values map[string]any) (map[string]any, error) {
	out := map[string]any{}
	var errs []string
	for _, key := range sortedKeys(schema) {
		f := schema[key]
		label := f.Label
		if label == "" {
			label = key
		}
		v, ok := values[key]
		if !ok || v == nil {
			v = f.Default
			if f.Required && empty(v) {
				errs = append(errs, label+" is required")
				continue
			}
		}
		switch f.Type {
		case "string":
			s := fmt.Sprint(v)
			if v == nil {
				s = ""
			}
			if f.Required && strings.TrimSpace(s) == "" {
				errs = append(errs, label+" is required")
				continue
			}
			out[key] = s
		case "number":
			var n float64
			switch x := v.(type) {
			case float64:
				n = x
			case string:
				p, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
				if err != nil {
					errs = append(errs, label+" must be a number")
					continue
				}
				n = p
			case nil:
				n = 0
			default:
				errs = append(errs, label+" must be a number")
				continue
			}
			if f.Min != nil && n < *f.Min {
				errs = append(errs, fmt.Sprintf("%s must be >= %s", label, fmtNum(*f.Min)))
				continue
			}
			if f.Max != nil && n > *f.Max {
				errs = append(errs, fmt.Sprintf("%s must be <= %s", label, fmtNum(*f.Max)))
				continue
			}
			out[key] = n
		case "boolean":
			out[key] = !empty(v) && v != "false" && v != "0"
		case "list":
			l, ok := v.([]any)
			if !ok {
				if v == nil {
					l = []any{}
				} else {
					errs = append(errs, label+" must be a list")
					continue
				}
			}
			items := make([]any, 0, len(l))
			for _, x := range l {
				items = append(items, fmt.Sprint(x))
			}
			out[key] = items
		default:
			out[key] = v
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// withDefaults fills saved values with the schema defaults.
func withDefaults(schema map[string]Field, saved map[string]any) map[string]any {
	out := map[string]any{}
	for k, f := range schema {
		if v, ok := saved[k]; ok {
			out[k] = v
		} else {
			out[k] = f.Default
		}
	}
	return out
}
