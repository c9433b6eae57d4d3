package agent

import (
	"bufio"
	"context"
	"runtime"
	"strings"
	"time"
)

// capabilities probes what this host offers (spec 20 §4.5).
func (a *Agent) capabilities() map[string]any {
	out := map[string]any{"os": runtime.GOOS, "distro": "", "distro_version": "", "kernel": "",
		"init_system": "unknown", "is_wsl": false, "is_container": false}
	caps := map[string]any{}
	tools := []string{"docker", "podman", "systemctl", "rc-service", "apt", "dnf", "apk", "pacman", "certbot", "zfs", "btrfs",
		"tailscale", "iptables", "nft", "logrotate", "fstrim", "ip", "ifconfig", "kill", "shutdown", "journalctl", "mdadm"}
	if runtime.GOOS == "windows" {
		tools = []string{"powershell", "wevtutil", "sfc", "chkdsk", "sc", "docker", "podman", "tailscale"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, t := range tools {
		name := t
		if t == "nft" {
			name = "nftables"
		}
		p, err := a.sys.Look(t)
		c := map[string]any{"available": err == nil}
		if err == nil && (t == "docker" || t == "tailscale") {
			arg := "--version"
			if t == "tailscale" {
				arg = "version"
			}
			if r := a.run(ctx, 5*time.Second, p, arg); r.err == nil {
				c["version"] = firstLine(r.stdout)
			}
		}
		caps[name] = c
	}
	out["capabilities"] = caps
	if runtime.GOOS == "windows" {
		out["init_system"] = "windows_scm"
		return out
	}
	if runtime.GOOS == "darwin" {
		out["init_system"] = "launchd"
	}
	if f, err := a.sys.Open("/etc/os-release"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if !ok {
				continue
			}
			v = strings.Trim(v, `"'`)
			switch k {
			case "ID":
				out["distro"] = v
			case "VERSION_ID":
				out["distro_version"] = v
			}
		}
		f.Close()
	}
	if b, err := a.sys.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		out["kernel"] = strings.TrimSpace(string(b))
	}
	if _, err := a.sys.Stat("/run/systemd/system"); err == nil {
		out["init_system"] = "systemd"
	} else if _, err := a.sys.Stat("/sbin/openrc"); err == nil {
		out["init_system"] = "openrc"
	}
	if b, err := a.sys.ReadFile("/proc/version"); err == nil {
		s := strings.ToLower(string(b))
		out["is_wsl"] = strings.Contains(s, "microsoft") || strings.Contains(s, "wsl")
	}
	if _, err := a.sys.Stat("/.dockerenv"); err == nil {
		out["is_container"] = true
	} else if b, err := a.sys.ReadFile("/proc/1/cgroup"); err == nil && strings.Contains(string(b), "docker") {
		out["is_container"] = true
	}
	return out
}
