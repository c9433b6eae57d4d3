package httpx

import (
	"strconv"
	"strings"
)

// IntParam reads an integer query value: absent gives def, a non-integer
// is a 400 "Invalid <name> parameter", and the value is clamped to [lo, hi].
func IntParam(name, raw string, def, lo, hi int) (int, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, Invalid("Invalid %s parameter", name)
	}
	return min(max(n, lo), hi), nil
}

// SafeInt reads an integer, falling back to def silently.
func SafeInt(raw string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		return def
	}
	return n
}
