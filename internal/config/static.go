package config

// Static is a Reader over a fixed flat settings dict (tests, tools): its
// typed Values are decoded once. Keys it lacks read as absent, not as
// their defaults.
func Static(flat map[string]any) Reader {
	if flat == nil {
		flat = map[string]any{}
	}
	return static{flat: flat, vals: decodeValues(flat)}
}

type static struct {
	flat map[string]any
	vals *Values
}

func (s static) Current() *Values         { return s.vals }
func (s static) View() map[string]any     { return s.flat }
func (s static) Value(key string) any     { return deepCopy(s.flat[key]) }
func (s static) String(key string) string { v, _ := s.flat[key].(string); return v }
