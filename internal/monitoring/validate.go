package monitoring

import (
	"encoding/json"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/httpx"
)

// Limits of monitor fields (spec 20 §15.5, Go ranges).
const (
	MinInterval = 30
	MaxInterval = 86400
	MaxTimeout  = 60
)

func parseID(name, raw string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpx.Invalid("Invalid %s", name)
	}
	return id, nil
}

// intField reads an integer JSON value (number or numeric string).
func intField(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1e9 {
			return 0, false
		}
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(n))
		return i, err == nil
	}
	return 0, false
}

func boolField(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case float64:
		return b != 0, true
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true", "1", "yes", "on":
			return true, true
		case "false", "0", "no", "off":
			return false, true
		}
	}
	return false, false
}

func strField(v any) (string, bool) {
	s, ok := v.(string)
	return strings.TrimSpace(s), ok
}

// inferType picks a monitor type from the target's scheme.
func inferType(u string) string {
	switch {
	case strings.HasPrefix(u, "tcp://"):
		return TypeTCP
	case strings.HasPrefix(u, "icmp://"), strings.HasPrefix(u, "ping://"):
		return TypePing
	case strings.HasPrefix(u, "dns://"):
		return TypeDNS
	}
	return TypeHTTP
}

// applyMonitor applies the recognised fields of body to m and returns the
// names of the columns it set. Unknown fields are ignored.
func applyMonitor(body map[string]any, m *EndpointMonitor) ([]string, error) {
	var set []string
	mark := func(c string) { set = append(set, c) }
	intIn := func(key string, lo, hi int, msg string, dst *int) error {
		v, ok := body[key]
		if !ok {
			return nil
		}
		n, ok := intField(v)
		if !ok || n < lo || n > hi {
			return httpx.Invalid("%s", msg)
		}
		*dst = n
		mark(key)
		return nil
	}
	if v, ok := body["name"]; ok {
		s, _ := strField(v)
		if s == "" {
			return nil, httpx.Invalid("Name and URL are required")
		}
		if len(s) > 200 {
			return nil, httpx.Invalid("name must be at most 200 characters")
		}
		if err := httpx.CheckPrintable("name", s); err != nil {
			return nil, err
		}
		m.Name = s
		mark("name")
	}
	if v, ok := body["url"]; ok {
		s, _ := strField(v)
		if s == "" {
			return nil, httpx.Invalid("Name and URL are required")
		}
		if len(s) > 2048 {
			return nil, httpx.Invalid("url must be at most 2048 characters")
		}
		m.URL = s
		mark("url")
	}
	if v, ok := body["type"]; ok && v != nil {
		s, _ := strField(v)
		s = strings.ToLower(s)
		switch s {
		case TypeHTTP, TypeTCP, TypePing, TypeDNS:
		case "https":
			s = TypeHTTP
		case "icmp":
			s = TypePing
		default:
			return nil, httpx.Invalid("type must be http, tcp, ping, or dns")
		}
		m.Type = s
		mark("type")
	} else if _, urlSet := body["url"]; urlSet && m.ID == 0 {
		m.Type = inferType(m.URL)
		mark("type")
	}
	if v, ok := body["method"]; ok && v != nil {
		s, _ := strField(v)
		m.Method = strings.ToUpper(s)
		mark("method")
	}
	if v, ok := body["keyword"]; ok {
		s, _ := v.(string)
		if len(s) > 1024 {
			return nil, httpx.Invalid("keyword must be at most 1024 characters")
		}
		m.Keyword = s
		mark("keyword")
	}
	if v, ok := body["dns_server"]; ok {
		s, _ := strField(v)
		if s != "" {
			host := s
			if h, p, err := net.SplitHostPort(s); err == nil {
				if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
					return nil, httpx.Invalid("dns_server must be an IP address with an optional port")
				}
				host = h
			}
			if net.ParseIP(host) == nil {
				return nil, httpx.Invalid("dns_server must be an IP address with an optional port")
			}
		}
		m.DNSServer = s
		mark("dns_server")
	}
	if err := intIn("expected_status", 100, 599, "expected_status must be an integer from 100 to 599", &m.ExpectedStatus); err != nil {
		return nil, err
	}
	if err := intIn("check_interval", MinInterval, MaxInterval, "check_interval must be an integer from 30 to 86400 seconds", &m.CheckInterval); err != nil {
		return nil, err
	}
	if err := intIn("timeout", 1, MaxTimeout, "timeout must be an integer from 1 to 60 seconds", &m.Timeout); err != nil {
		return nil, err
	}
	if err := intIn("notify_cert_days", 0, 365, "notify_cert_days must be an integer from 0 to 365", &m.NotifyCertDays); err != nil {
		return nil, err
	}
	for _, key := range []string{"verify_tls", "enabled"} {
		v, ok := body[key]
		if !ok {
			continue
		}
		b, ok := boolField(v)
		if !ok {
			return nil, httpx.Invalid("%s must be true or false", key)
		}
		if key == "enabled" {
			m.Enabled = b
		} else {
			m.VerifyTLS = b
		}
		mark(key)
	}
	if v, ok := body["agent_hostname"]; ok {
		s, _ := strField(v)
		if s == "" {
			m.AgentHostname = nil
		} else {
			if len(s) > 253 || strings.ContainsAny(s, " /\\") {
				return nil, httpx.Invalid("agent_hostname is not a valid hostname")
			}
			m.AgentHostname = &s
		}
		mark("agent_hostname")
	}
	return set, nil
}

// validateMonitor checks a whole monitor (after create defaults or a merge).
func validateMonitor(m *EndpointMonitor) error {
	if m.Name == "" || m.URL == "" {
		return httpx.Invalid("Name and URL are required")
	}
	switch m.Type {
	case TypeHTTP:
		if !strings.HasPrefix(m.URL, "http://") && !strings.HasPrefix(m.URL, "https://") {
			return httpx.Invalid("URL must start with http:// or https://")
		}
		if u, err := url.Parse(m.URL); err != nil || u.Hostname() == "" {
			return httpx.Invalid("URL is not a valid http(s) URL")
		}
		if m.Method == "" {
			m.Method = "GET"
		}
		if m.Method != "GET" && m.Method != "HEAD" {
			return httpx.Invalid("method must be GET or HEAD")
		}
	case TypeTCP:
		if _, err := tcpTarget(m.URL); err != nil {
			return httpx.Invalid("TCP target must be host:port (e.g. tcp://db.lan:5432)")
		}
		m.Method = ""
	case TypePing:
		h := pingTarget(m.URL)
		if h == "" || strings.ContainsAny(h, " /:") && net.ParseIP(h) == nil {
			return httpx.Invalid("ping target must be a host name or IP address (e.g. icmp://192.168.1.1)")
		}
		m.Method = ""
	case TypeDNS:
		n := dnsTarget(m.URL)
		if n == "" || strings.ContainsAny(n, " /:") {
			return httpx.Invalid("DNS target must be a host name (e.g. dns://example.com)")
		}
		if m.Method == "" || m.Method == "GET" {
			m.Method = "A"
		}
		switch m.Method {
		case "A", "AAAA", "CNAME", "MX", "TXT", "NS":
		default:
			return httpx.Invalid("method of a DNS monitor must be A, AAAA, CNAME, MX, TXT, or NS")
		}
	default:
		return httpx.Invalid("type must be http, tcp, ping, or dns")
	}
	if m.AgentHostname != nil && m.Type != TypeHTTP {
		return httpx.Invalid("agent_hostname is only supported for http monitors")
	}
	return nil
}

// monitorCols maps the set fields of m to their column values.
func monitorColumns(m EndpointMonitor, set []string) map[string]any {
	cols := map[string]any{}
	add := func(k string, v any) { cols[k] = v }
	for _, k := range set {
		switch k {
		case "name":
			add(k, m.Name)
		case "url":
			add(k, m.URL)
		case "type":
			add(k, m.Type)
		case "method":
			add(k, m.Method)
		case "keyword":
			add(k, m.Keyword)
		case "dns_server":
			add(k, m.DNSServer)
		case "expected_status":
			add(k, m.ExpectedStatus)
		case "check_interval":
			add(k, m.CheckInterval)
		case "timeout":
			add(k, m.Timeout)
		case "notify_cert_days":
			add(k, m.NotifyCertDays)
		case "verify_tls":
			add(k, b2i(m.VerifyTLS))
		case "enabled":
			add(k, b2i(m.Enabled))
		case "agent_hostname":
			add(k, m.AgentHostname)
		}
	}
	// Validation may normalise the method (e.g. a type change).
	if _, ok := cols["type"]; ok {
		cols["method"] = m.Method
	}
	return cols
}
