package monitoring

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Monitor types.
const (
	TypeHTTP = "http"
	TypeTCP  = "tcp"
	TypePing = "ping"
	TypeDNS  = "dns"
)

// Check statuses.
const (
	StatusUp       = "up"
	StatusDegraded = "degraded"
	StatusDown     = "down"
	StatusSkipped  = "skipped"
)

// Result is the outcome of one check.
type CheckResult struct {
	Status         string `json:"last_status"`
	ResponseMS     int64  `json:"last_response_ms"`
	StatusCode     int    `json:"status_code"`
	CertExpiryDays *int   `json:"cert_expiry_days"`
	CertError      string `json:"cert_error,omitempty"`
	Error          string `json:"error"`
	// Method tells how a ping was done (icmp, icmp-raw, ping-binary).
	Method string `json:"method,omitempty"`
}

// Checker runs checks. It only ever connects to the monitor's own target.
type Checker struct {
	listenPort string
	selfHosts  map[string]bool
	// maxBody bounds how much of an HTTP body is read for the keyword.
	maxBody int64
}

// NewChecker returns a checker; listenPort is the server's own port, used
// by the self-reference guard.
func NewChecker(listenPort string) *Checker {
	hosts := map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "0.0.0.0": true, "[::1]": true}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts[strings.ToLower(h)] = true
		if cname, err := net.LookupCNAME(h); err == nil {
			hosts[strings.ToLower(strings.TrimSuffix(cname, "."))] = true
		}
	}
	return &Checker{listenPort: listenPort, selfHosts: hosts, maxBody: 1 << 20}
}

const userAgent = "NOBA-Server/1.0"

// Check runs one check of m, bounded by its timeout.
func (c *Checker) Check(ctx context.Context, m EndpointMonitor) CheckResult {
	timeout := time.Duration(m.Timeout) * time.Second
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch m.Type {
	case TypeTCP:
		return c.checkTCP(ctx, m)
	case TypePing:
		return c.checkPing(ctx, m, timeout)
	case TypeDNS:
		return c.checkDNS(ctx, m)
	default:
		return c.checkHTTP(ctx, m)
	}
}

func elapsedMS(start time.Time) int64 { return time.Since(start).Milliseconds() }

// statusFor maps an HTTP status code to the check status (spec 20 §15.5 step 4).
func statusFor(code, expected int) string {
	switch {
	case code == 0:
		return StatusDown
	case code == expected:
		return StatusUp
	case code >= 200 && code < 400:
		return StatusDegraded
	}
	return StatusDown
}

func (c *Checker) selfReference(u *url.URL) bool {
	if c.listenPort == "" || c.listenPort == "0" {
		return false
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return port == c.listenPort && c.selfHosts[strings.ToLower(u.Hostname())]
}

func (c *Checker) checkHTTP(ctx context.Context, m EndpointMonitor) CheckResult {
	u, err := url.Parse(m.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return CheckResult{Status: StatusDown, Error: "invalid URL"}
	}
	if c.selfReference(u) {
		return CheckResult{Status: StatusSkipped, Error: "Self-referential: " + u.Host + " is this NOBA server"}
	}
	tr := &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !m.VerifyTLS}, //nolint:gosec // per monitor, documented
		DisableKeepAlives:   true,
		TLSHandshakeTimeout: time.Duration(m.Timeout) * time.Second,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		// Follow redirects only on the monitor's own host: checks never
		// reach targets other than the configured one.
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if !strings.EqualFold(req.URL.Hostname(), u.Hostname()) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	method := m.Method
	if method != http.MethodHead {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, m.URL, nil)
	if err != nil {
		return CheckResult{Status: StatusDown, Error: "invalid URL"}
	}
	req.Header.Set("User-Agent", userAgent)
	start := time.Now()
	res := CheckResult{}
	resp, err := client.Do(req)
	if err != nil {
		res.Error = cleanErr(err)
	} else {
		res.StatusCode = resp.StatusCode
		var body []byte
		if m.Keyword != "" && method == http.MethodGet {
			body, err = io.ReadAll(io.LimitReader(resp.Body, c.maxBody))
			if err != nil {
				res.Error = "reading body: " + cleanErr(err)
			}
		} else {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, c.maxBody))
		}
		resp.Body.Close()
		res.Status = statusFor(resp.StatusCode, m.ExpectedStatus)
		if m.Keyword != "" && method == http.MethodGet && res.Status == StatusUp && !strings.Contains(string(body), m.Keyword) {
			res.Status = StatusDown
			res.Error = fmt.Sprintf("keyword %q not found in response", m.Keyword)
		}
	}
	res.ResponseMS = elapsedMS(start)
	if res.Status == "" {
		res.Status = statusFor(res.StatusCode, m.ExpectedStatus)
	}
	if res.Status == StatusDown && res.Error == "" && res.StatusCode > 0 {
		res.Error = fmt.Sprintf("HTTP %d (expected %d)", res.StatusCode, m.ExpectedStatus)
	}
	if u.Scheme == "https" {
		res.CertExpiryDays, res.CertError = certExpiry(ctx, u)
	}
	return res
}

// certExpiry reads the peer certificate without verification (so expired
// and self-signed certificates are still reported) and verifies it
// separately: days until notAfter, and the verification error if any.
func certExpiry(ctx context.Context, u *url.URL) (*int, string) {
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = "443"
	}
	d := &tls.Dialer{Config: &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} //nolint:gosec // reading only
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, "TLS handshake failed: " + cleanErr(err)
	}
	defer func() { _ = conn.Close() }()
	st := conn.(*tls.Conn).ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return nil, "no peer certificate"
	}
	leaf := st.PeerCertificates[0]
	days := int(math.Floor(time.Until(leaf.NotAfter).Hours() / 24))
	opts := x509.VerifyOptions{DNSName: host, Intermediates: x509.NewCertPool()}
	for _, ic := range st.PeerCertificates[1:] {
		opts.Intermediates.AddCert(ic)
	}
	if _, err := leaf.Verify(opts); err != nil {
		return &days, "certificate verification failed: " + err.Error()
	}
	return &days, ""
}

// cleanErr shortens net/http error chains to their useful part.
func cleanErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// tcpTarget reads "host:port" from a tcp monitor URL (tcp://host:port or host:port).
func tcpTarget(raw string) (string, error) {
	s := strings.TrimPrefix(raw, "tcp://")
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return "", errors.New("target must be host:port")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", errors.New("port must be 1-65535")
	}
	return net.JoinHostPort(host, port), nil
}

func (c *Checker) checkTCP(ctx context.Context, m EndpointMonitor) CheckResult {
	addr, err := tcpTarget(m.URL)
	if err != nil {
		return CheckResult{Status: StatusDown, Error: err.Error()}
	}
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	ms := elapsedMS(start)
	if err != nil {
		return CheckResult{Status: StatusDown, ResponseMS: ms, Error: "connect " + addr + ": " + shortNetErr(err)}
	}
	_ = conn.Close()
	return CheckResult{Status: StatusUp, ResponseMS: ms}
}

func shortNetErr(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "connection refused"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// pingTarget reads the host of a ping monitor URL (icmp://host, ping://host or host).
func pingTarget(raw string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(raw, "icmp://"), "ping://")
	return strings.TrimSuffix(s, "/")
}

func (c *Checker) checkPing(ctx context.Context, m EndpointMonitor, timeout time.Duration) CheckResult {
	host := pingTarget(m.URL)
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		return CheckResult{Status: StatusDown, Error: "resolve " + host + ": " + cleanErr(err)}
	}
	var ip net.IP
	for _, a := range ips {
		if v4 := a.IP.To4(); v4 != nil {
			ip = v4
			break
		}
	}
	if ip == nil {
		return CheckResult{Status: StatusSkipped, Error: "ICMP check supports IPv4 targets only"}
	}
	start := time.Now()
	method, err := icmpEcho(ctx, ip)
	if errors.Is(err, errICMPUnavailable) {
		if path, lerr := exec.LookPath("ping"); lerr == nil {
			secs := max(1, int(timeout.Seconds()))
			cmd := exec.CommandContext(ctx, path, "-c", "1", "-W", strconv.Itoa(secs), "-n", ip.String())
			out, perr := cmd.CombinedOutput()
			ms := elapsedMS(start)
			if perr != nil {
				return CheckResult{Status: StatusDown, ResponseMS: ms, Method: "ping-binary", Error: "no reply from " + ip.String() + ": " + strings.TrimSpace(lastLine(string(out)))}
			}
			return CheckResult{Status: StatusUp, ResponseMS: ms, Method: "ping-binary"}
		}
		return CheckResult{Status: StatusSkipped, Error: "ICMP unavailable: unprivileged ping sockets are not permitted (sysctl net.ipv4.ping_group_range), no raw-socket privilege, and no ping binary"}
	}
	ms := elapsedMS(start)
	if err != nil {
		return CheckResult{Status: StatusDown, ResponseMS: ms, Method: method, Error: "no reply from " + ip.String() + ": " + cleanErr(err)}
	}
	return CheckResult{Status: StatusUp, ResponseMS: ms, Method: method}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// dnsTarget reads the name of a dns monitor URL (dns://name or name).
func dnsTarget(raw string) string {
	return strings.TrimSuffix(strings.TrimPrefix(raw, "dns://"), "/")
}

func (c *Checker) checkDNS(ctx context.Context, m EndpointMonitor) CheckResult {
	name := dnsTarget(m.URL)
	res := &net.Resolver{PreferGo: true}
	if m.DNSServer != "" {
		server := m.DNSServer
		if _, _, err := net.SplitHostPort(server); err != nil {
			server = net.JoinHostPort(server, "53")
		}
		res.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		}
	}
	start := time.Now()
	var answers []string
	var err error
	switch strings.ToUpper(m.Method) {
	case "AAAA":
		var ips []net.IP
		ips, err = res.LookupIP(ctx, "ip6", name)
		for _, ip := range ips {
			answers = append(answers, ip.String())
		}
	case "CNAME":
		var cn string
		cn, err = res.LookupCNAME(ctx, name)
		if cn != "" {
			answers = append(answers, strings.TrimSuffix(cn, "."))
		}
	case "MX":
		var mx []*net.MX
		mx, err = res.LookupMX(ctx, name)
		for _, r := range mx {
			answers = append(answers, strings.TrimSuffix(r.Host, "."))
		}
	case "TXT":
		answers, err = res.LookupTXT(ctx, name)
	case "NS":
		var ns []*net.NS
		ns, err = res.LookupNS(ctx, name)
		for _, r := range ns {
			answers = append(answers, strings.TrimSuffix(r.Host, "."))
		}
	default:
		var ips []net.IP
		ips, err = res.LookupIP(ctx, "ip4", name)
		for _, ip := range ips {
			answers = append(answers, ip.String())
		}
	}
	ms := elapsedMS(start)
	if err != nil {
		return CheckResult{Status: StatusDown, ResponseMS: ms, Error: "lookup " + name + ": " + cleanErr(err)}
	}
	if len(answers) == 0 {
		return CheckResult{Status: StatusDown, ResponseMS: ms, Error: "lookup " + name + ": no records"}
	}
	if m.Keyword != "" {
		for _, a := range answers {
			if strings.Contains(a, m.Keyword) {
				return CheckResult{Status: StatusUp, ResponseMS: ms}
			}
		}
		return CheckResult{Status: StatusDown, ResponseMS: ms, Error: fmt.Sprintf("expected %q not in answers %s", m.Keyword, strings.Join(answers, ", "))}
	}
	return CheckResult{Status: StatusUp, ResponseMS: ms}
}
