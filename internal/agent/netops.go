package agent

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/wire"
)

// netRates keeps the previous interface counters for network_stats.
type netRates struct {
	mu   sync.Mutex
	prev map[string][2]uint64
	at   time.Time
}

func (a *Agent) readNetDev() map[string][2]uint64 {
	out := map[string][2]uint64{}
	f, err := a.sys.Open("/proc/net/dev")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		name = strings.TrimSpace(name)
		fs := strings.Fields(rest)
		if name == "lo" || len(fs) < 9 {
			continue
		}
		rx, _ := strconv.ParseUint(fs[0], 10, 64)
		tx, _ := strconv.ParseUint(fs[8], 10, 64)
		out[name] = [2]uint64{rx, tx}
	}
	return out
}

var ssProcRE = regexp.MustCompile(`\("([^"]+)",pid=(\d+)`)

func hNetworkStats(ctx context.Context, c *call) map[string]any {
	a := c.agent
	cur := a.readNetDev()
	now := time.Now()
	a.net.mu.Lock()
	prev, dt := a.net.prev, now.Sub(a.net.at).Seconds()
	a.net.prev, a.net.at = cur, now
	a.net.mu.Unlock()
	names := make([]string, 0, len(cur))
	for n := range cur {
		names = append(names, n)
	}
	sort.Strings(names)
	ifs := []map[string]any{}
	for _, n := range names {
		v := cur[n]
		rr, tr := 0.0, 0.0
		if p, ok := prev[n]; ok && dt > 0 {
			rr = max(0, float64(int64(v[0])-int64(p[0]))/dt)
			tr = max(0, float64(int64(v[1])-int64(p[1]))/dt)
		}
		ifs = append(ifs, map[string]any{"name": n, "rx_bytes": v[0], "tx_bytes": v[1], "rx_rate": round1(rr), "tx_rate": round1(tr)})
	}
	conns := []map[string]any{}
	talk := map[string]int{}
	if a.have("ss") {
		r := a.run(ctx, 10*time.Second, "ss", "-tnp")
		for i, l := range strings.Split(r.stdout, "\n") {
			fs := strings.Fields(l)
			if i == 0 || len(fs) < 5 {
				continue
			}
			proc, pid := "", 0
			if m := ssProcRE.FindStringSubmatch(l); m != nil {
				proc = m[1]
				pid, _ = strconv.Atoi(m[2])
			}
			if len(conns) < 200 {
				conns = append(conns, map[string]any{"pid": pid, "process": proc, "local": fs[3], "remote": fs[4], "state": fs[0]})
			}
			if proc != "" {
				talk[proc]++
			}
		}
	}
	top := []map[string]any{}
	for p, n := range talk {
		top = append(top, map[string]any{"process": p, "connections": n})
	}
	sort.Slice(top, func(i, j int) bool { return top[i]["connections"].(int) > top[j]["connections"].(int) })
	return ok(map[string]any{"interfaces": ifs, "connections": conns, "top_talkers": top[:min(len(top), 20)]})
}

func hEndpointCheck(ctx context.Context, c *call, in *wire.EndpointCheckParams) map[string]any {
	u, method := in.URL, in.Method
	if method == "" {
		method = http.MethodGet
	}
	timeout := time.Duration(min(max(intOr(in.Timeout, 10), 1), 30)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return fail("%v", err)
	}
	req.Header.Set("User-Agent", "NOBA-Agent/"+wire.AgentVersion)
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	ms := time.Since(start).Milliseconds()
	if err != nil {
		return map[string]any{"status": "error", "status_code": 0, "response_ms": ms, "error": err.Error()}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	out := ok(map[string]any{"status_code": res.StatusCode, "response_ms": ms})
	if strings.HasPrefix(u, "https://") {
		// A separate handshake reads the certificate even when it does not verify.
		host := req.URL.Host
		if req.URL.Port() == "" {
			host += ":443"
		}
		d := &tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, ServerName: req.URL.Hostname()}} //nolint:gosec // inspection only
		if conn, err := d.DialContext(ctx, "tcp", host); err == nil {
			cs := conn.(*tls.Conn).ConnectionState()
			if len(cs.PeerCertificates) > 0 {
				cert := cs.PeerCertificates[0]
				out["cert_expiry_days"] = int(time.Until(cert.NotAfter).Hours() / 24)
				if len(cert.Issuer.Organization) > 0 {
					out["cert_issuer"] = cert.Issuer.Organization[0]
				}
			}
			conn.Close()
		}
	}
	return out
}

func hDiscoverServices(ctx context.Context, c *call) map[string]any {
	a := c.agent
	if !a.have("ss") {
		return fail("ss not installed")
	}
	type svc struct {
		name  string
		ports map[int]bool
		conns []map[string]any
	}
	svcs := map[string]*svc{}
	portOwner := map[int]string{}
	r := a.run(ctx, 10*time.Second, "ss", "-tlnp")
	for i, l := range strings.Split(r.stdout, "\n") {
		fs := strings.Fields(l)
		if i == 0 || len(fs) < 4 {
			continue
		}
		_, ps, err := net.SplitHostPort(fs[3])
		if err != nil {
			continue
		}
		port, _ := strconv.Atoi(ps)
		name := "port-" + ps
		if m := ssProcRE.FindStringSubmatch(l); m != nil {
			name = m[1]
		}
		s := svcs[name]
		if s == nil {
			s = &svc{name: name, ports: map[int]bool{}}
			svcs[name] = s
		}
		s.ports[port] = true
		portOwner[port] = name
	}
	est := a.run(ctx, 10*time.Second, "ss", "-tnp")
	for i, l := range strings.Split(est.stdout, "\n") {
		fs := strings.Fields(l)
		if i == 0 || len(fs) < 5 || fs[0] != "ESTAB" {
			continue
		}
		_, lp, err1 := net.SplitHostPort(fs[3])
		rh, rp, err2 := net.SplitHostPort(fs[4])
		if err1 != nil || err2 != nil {
			continue
		}
		port, _ := strconv.Atoi(lp)
		if owner, ok := portOwner[port]; ok {
			rport, _ := strconv.Atoi(rp)
			svcs[owner].conns = append(svcs[owner].conns, map[string]any{"remote_host": rh, "remote_port": rport})
		}
	}
	if a.have("systemctl") {
		sr := a.run(ctx, 10*time.Second, "systemctl", "list-units", "--type=service", "--state=running", "--no-pager", "--plain", "--no-legend")
		for _, l := range strings.Split(sr.stdout, "\n") {
			fs := strings.Fields(l)
			if len(fs) == 0 {
				continue
			}
			name := strings.TrimSuffix(fs[0], ".service")
			if _, ok := svcs[name]; !ok {
				svcs[name] = &svc{name: name, ports: map[int]bool{}}
			}
		}
	}
	out := []map[string]any{}
	for _, s := range svcs {
		ports := []int{}
		for p := range s.ports {
			ports = append(ports, p)
		}
		sort.Ints(ports)
		first := 0
		if len(ports) > 0 {
			first = ports[0]
		}
		conns := s.conns
		if conns == nil {
			conns = []map[string]any{}
		}
		out = append(out, map[string]any{"name": s.name, "port": first, "ports": ports, "connections": conns})
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["name"].(string) < out[j]["name"].(string) })
	return ok(map[string]any{"services": out})
}

var probePorts = []int{22, 80, 443, 8080, 8443, 3000, 5000, 8000, 8888, 9090, 3306, 5432, 6379, 1883, 8883, 53, 67, 68, 161, 445, 139, 548, 631, 5353, 9100}

func hNetworkDiscover(ctx context.Context, c *call) map[string]any {
	a := c.agent
	devs := map[string]map[string]any{}
	if a.have("ip") {
		r := a.run(ctx, 10*time.Second, "ip", "neigh")
		for _, l := range strings.Split(r.stdout, "\n") {
			fs := strings.Fields(l)
			if len(fs) == 0 || strings.Contains(l, "FAILED") || strings.Contains(l, "INCOMPLETE") {
				continue
			}
			mac := ""
			for i, f := range fs {
				if f == "lladdr" && i+1 < len(fs) {
					mac = strings.ToLower(fs[i+1])
				}
			}
			devs[fs[0]] = map[string]any{"ip": fs[0], "mac": mac, "hostname": ""}
		}
	}
	if a.have("avahi-browse") {
		r := a.run(ctx, 15*time.Second, "avahi-browse", "-apt", "--no-db-lookup", "-t")
		for _, l := range strings.Split(r.stdout, "\n") {
			if !strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "=") {
				continue
			}
			fs := strings.Split(l, ";")
			if len(fs) > 7 && net.ParseIP(fs[7]) != nil {
				d := devs[fs[7]]
				if d == nil {
					d = map[string]any{"ip": fs[7], "mac": ""}
					devs[fs[7]] = d
				}
				d["hostname"] = fs[3]
			}
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 32)
	for ip, d := range devs {
		if h, _ := d["hostname"].(string); h == "" {
			if names, err := net.DefaultResolver.LookupAddr(ctx, ip); err == nil && len(names) > 0 {
				d["hostname"] = strings.TrimSuffix(names[0], ".")
			}
		}
		ports := []int{}
		for _, p := range probePorts {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(p)), 300*time.Millisecond)
				if err == nil {
					conn.Close()
					mu.Lock()
					ports = append(ports, p)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		sort.Ints(ports)
		d["open_ports"] = ports
	}
	list := []map[string]any{}
	for _, d := range devs {
		list = append(list, d)
	}
	sort.Slice(list, func(i, j int) bool { return list[i]["ip"].(string) < list[j]["ip"].(string) })
	return ok(map[string]any{"devices": list})
}

func hSecurityScan(ctx context.Context, c *call) map[string]any {
	a := c.agent
	var findings []map[string]any
	add := func(sev, cat, desc, fix string) {
		findings = append(findings, map[string]any{"severity": sev, "category": cat, "description": desc, "remediation": fix})
	}
	if b, err := a.sys.ReadFile("/etc/ssh/sshd_config"); os.IsNotExist(err) {
		add("low", "ssh", "sshd_config not found", "Verify the SSH server configuration")
	} else if err != nil {
		add("low", "ssh", "sshd_config unreadable", "Run the agent with permission to read /etc/ssh/sshd_config")
	} else {
		conf := map[string]string{}
		for _, l := range strings.Split(strings.ToLower(string(b)), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			if fs := strings.Fields(l); len(fs) >= 2 {
				if _, seen := conf[fs[0]]; !seen {
					conf[fs[0]] = fs[1]
				}
			}
		}
		if v, ok := conf["permitrootlogin"]; !ok || v == "yes" {
			add("high", "ssh", "Root login over SSH is permitted", "Set PermitRootLogin no (or prohibit-password)")
		}
		if v, ok := conf["passwordauthentication"]; ok && v == "yes" {
			add("medium", "ssh", "SSH password authentication is enabled", "Set PasswordAuthentication no and use keys")
		} else if !ok {
			add("low", "ssh", "SSH password authentication is not explicitly disabled", "Set PasswordAuthentication no")
		}
	}
	fw := false
	if a.have("ufw") && strings.Contains(a.run(ctx, 10*time.Second, "ufw", "status").stdout, "Status: active") {
		fw = true
	}
	if !fw && a.have("nft") && strings.TrimSpace(a.run(ctx, 10*time.Second, "nft", "list", "tables").stdout) != "" {
		fw = true
	}
	if !fw && a.have("iptables") {
		for _, l := range strings.Split(a.run(ctx, 10*time.Second, "iptables", "-L", "-n").stdout, "\n") {
			if l != "" && !strings.HasPrefix(l, "Chain") && !strings.HasPrefix(l, "target") {
				fw = true
				break
			}
		}
	}
	if !fw {
		add("high", "firewall", "No active firewall found", "Enable ufw, nftables or iptables rules")
	}
	auto := false
	if b, err := a.sys.ReadFile("/etc/apt/apt.conf.d/20auto-upgrades"); err == nil && strings.Contains(string(b), `Unattended-Upgrade "1"`) {
		auto = true
	}
	for _, p := range []string{"/etc/dnf/automatic.conf", "/etc/yum/yum-cron.conf"} {
		if b, err := a.sys.ReadFile(p); err == nil && applyUpdatesRE.Match(b) {
			auto = true
		}
	}
	if !auto && a.have("systemctl") {
		for _, u := range []string{"unattended-upgrades", "dnf-automatic-install.timer", "dnf-automatic.timer", "yum-cron"} {
			if strings.TrimSpace(a.run(ctx, 5*time.Second, "systemctl", "is-enabled", u).stdout) == "enabled" {
				auto = true
				break
			}
		}
	}
	if !auto {
		add("medium", "updates", "Automatic security updates are not configured", "Enable unattended-upgrades or dnf-automatic")
	}
	for _, p := range []string{"/etc/shadow", "/etc/gshadow"} {
		if st, err := a.sys.Stat(p); err == nil {
			m := st.Mode().Perm()
			switch {
			case m&0o004 != 0:
				add("high", "file_permissions", fmt.Sprintf("%s is world-readable (%o)", p, m), "chmod 640 "+p)
			case m > 0o640 && m&0o040 != 0:
				add("medium", "file_permissions", fmt.Sprintf("%s has loose permissions (%o)", p, m), "chmod 640 "+p)
			case m > 0o640:
				add("low", "file_permissions", fmt.Sprintf("%s permissions are %o", p, m), "chmod 640 "+p)
			}
		}
	}
	// TCP services listen (state 0A) in the TCP tables; UDP services are
	// bound sockets (state 07) in the UDP tables: TFTP and SNMP are UDP.
	type service struct {
		port          int
		udp           bool
		severity, svc string
	}
	insecure := []service{{21, false, "high", "FTP"}, {23, false, "high", "Telnet"}, {69, true, "medium", "TFTP"},
		{161, true, "medium", "SNMP"}, {445, false, "medium", "SMB"}}
	tcp := a.boundPorts([]string{"/proc/net/tcp", "/proc/net/tcp6"}, "0A")
	udp := a.boundPorts([]string{"/proc/net/udp", "/proc/net/udp6"}, "07")
	for _, v := range insecure {
		if (v.udp && udp[v.port]) || (!v.udp && tcp[v.port]) {
			add(v.severity, "insecure_services", fmt.Sprintf("%s is listening on port %d", v.svc, v.port), "Disable "+v.svc+" or restrict it")
		}
	}
	var hi, med, lo int
	for _, f := range findings {
		switch f["severity"] {
		case "high":
			hi++
		case "medium":
			med++
		default:
			lo++
		}
	}
	score := max(0, 100-(min(20*hi, 60)+min(10*med, 30)+min(5*lo, 15)))
	if findings == nil {
		findings = []map[string]any{}
	}
	return ok(map[string]any{"score": score, "findings": findings})
}

var applyUpdatesRE = regexp.MustCompile(`apply_updates\s*=\s*yes`)

// boundPorts reads local ports in state st from /proc/net socket tables.
func (a *Agent) boundPorts(tables []string, st string) map[int]bool {
	out := map[int]bool{}
	for _, f := range tables {
		b, err := a.sys.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(l)
			if len(fs) > 3 && fs[3] == st {
				if _, ps, ok := strings.Cut(fs[1], ":"); ok {
					if p, err := strconv.ParseInt(ps, 16, 32); err == nil {
						out[int(p)] = true
					}
				}
			}
		}
	}
	return out
}
