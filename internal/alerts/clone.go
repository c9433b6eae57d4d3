package alerts

// clone deep-copies a settings value (maps and lists): the settings the
// engine reads are shared by every reader and must not leave the room
// where another room could change them.
func clone(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = clone(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = clone(x)
		}
		return out
	}
	return v
}
