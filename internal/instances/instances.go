package instances

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Instance is one stored integration instance. AuthConfig holds the
// credentials (server-side only); Tags is a list of labels.
type Instance struct {
	ID           string
	Category     string
	Platform     string
	URL          string
	AuthConfig   map[string]any
	Site         *string
	Tags         []string
	Enabled      bool
	HealthStatus string
	HealthError  string
	LastChecked  *int64
	LastSeen     *int64
	CreatedAt    int64
	VerifySSL    bool
	CABundle     string
}

// Masked is the placeholder that replaces a secret value in answers; sent
// back in a PATCH it keeps the stored value.
const Masked = "***"

// notSecret are credential keys that name rather than authenticate.
var notSecret = map[string]bool{"username": true, "user": true, "token_name": true, "tokenname": true, "realm": true,
	"domain": true, "org": true, "organization": true, "site": true, "tenant": true, "region": true, "node": true}

// IsSecret reports whether an auth_config key holds a secret.
func IsSecret(key string) bool {
	k := strings.ToLower(key)
	if notSecret[k] {
		return false
	}
	for _, w := range []string{"token", "secret", "pass", "key", "credential", "private", "cookie"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// MaskConfig returns cfg with every secret value replaced by Masked (nested maps too).
func MaskConfig(cfg map[string]any) map[string]any {
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		switch x := v.(type) {
		case map[string]any:
			if IsSecret(k) {
				out[k] = Masked
			} else {
				out[k] = MaskConfig(x)
			}
		case nil:
			out[k] = nil
		default:
			if IsSecret(k) {
				if s, ok := x.(string); ok && s == "" {
					out[k] = ""
				} else {
					out[k] = Masked
				}
			} else {
				out[k] = v
			}
		}
	}
	return out
}

// MergeConfig applies a patch to stored credentials: a Masked value keeps
// the stored one, null removes the key, any other value replaces it. Keys
// the patch leaves out are kept.
func MergeConfig(stored, patch map[string]any) map[string]any {
	out := make(map[string]any, len(stored)+len(patch))
	for k, v := range stored {
		out[k] = v
	}
	for k, v := range patch {
		switch {
		case v == nil:
			delete(out, k)
		case v == Masked:
			// keep the stored value (absent stays absent)
		default:
			out[k] = v
		}
	}
	return out
}

// Secrets returns every non-empty secret string of cfg (tests, log scrubbing).
func Secrets(cfg map[string]any) []string {
	var out []string
	for k, v := range cfg {
		switch x := v.(type) {
		case string:
			if IsSecret(k) && x != "" {
				out = append(out, x)
			}
		case map[string]any:
			out = append(out, Secrets(x)...)
		}
	}
	sort.Strings(out)
	return out
}

var (
	idRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	slugRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	groupRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$`)
)

// validateURL checks an instance URL: empty, or http(s) with a host.
func validateURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url must be an http:// or https:// URL with a host, got %q", raw)
	}
	if u.User != nil {
		return fmt.Errorf("url must not carry credentials: put them in auth_config")
	}
	return nil
}

// decodeConfig reads auth_config from a request: an object, or a string
// holding a JSON object.
func decodeConfig(v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return x, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return map[string]any{}, nil
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(x), &m); err != nil || m == nil {
			return nil, fmt.Errorf("auth_config must be a JSON object")
		}
		return m, nil
	}
	return nil, fmt.Errorf("auth_config must be a JSON object")
}

// decodeTags reads tags: a list of strings (or a string holding one).
func decodeTags(v any) ([]string, error) {
	var list []any
	switch x := v.(type) {
	case nil:
		return []string{}, nil
	case []any:
		list = x
	case string:
		if strings.TrimSpace(x) == "" {
			return []string{}, nil
		}
		if err := json.Unmarshal([]byte(x), &list); err != nil {
			return nil, fmt.Errorf("tags must be a list of strings")
		}
	default:
		return nil, fmt.Errorf("tags must be a list of strings")
	}
	out := make([]string, 0, len(list))
	for _, t := range list {
		s, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("tags must be a list of strings")
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// boolish reads a boolean that may arrive as true/false, 0/1 or "0"/"false"/"no".
func boolish(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case float64:
		return x != 0, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "0", "false", "no", "off":
			return false, nil
		case "1", "true", "yes", "on":
			return true, nil
		}
	}
	return false, fmt.Errorf("expected a boolean")
}
