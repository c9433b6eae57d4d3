package healing

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/jobs/runner"
)

// Risk levels of actions.
const (
	RiskLow    = "low"
	RiskMedium = "medium"
	RiskHigh   = "high"
)

// step is one command of a fallback handler: argv run on the agent (exec
// command, never a shell) or locally.
type handler struct {
	requires string
	argv     func(p map[string]any) ([][]string, error)
}

// Action is one remediation action type (spec 30 §6.9.1).
type Action struct {
	Name     string   `json:"name"`
	Risk     string   `json:"risk"`
	Params   []string `json:"params"`
	TimeoutS int      `json:"timeout_s"`
	SettleS  int      `json:"settle_s"`
	Reverse  string   `json:"reverse_action,omitempty"`
	// agent maps the action to a typed agent command when the target is an
	// online agent.
	agent func(p map[string]any) (cmd string, params map[string]any, err error)
	// chain: ordered fallback handlers by capability.
	chain []handler
	// local is an in-process handler (HTTP, files, jobs).
	local func(ctx context.Context, x *Executor, p map[string]any, target string) Result
	// refuse explains why the action cannot run on this installation.
	refuse func(p map[string]any) string
}

// Reversible reports whether the action has a reverse.
func (a *Action) Reversible() bool { return a.Reverse != "" }

// Result is the outcome of execute_action (spec 30 §6.9.4).
type Result struct {
	Success     bool    `json:"success"`
	Output      string  `json:"output"`
	Error       string  `json:"error,omitempty"`
	DurationS   float64 `json:"duration_s"`
	HealthCheck string  `json:"health_check,omitempty"`
	Remote      bool    `json:"remote,omitempty"`
}

var (
	nameRE    = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$`)
	serviceRE = regexp.MustCompile(`^[a-zA-Z0-9@._\-]+$`)
	argRE     = regexp.MustCompile(`^[a-zA-Z0-9@._/:=,+\-]+$`)
	cpuRE     = regexp.MustCompile(`^\d+(\.\d+)?$`)
	memRE     = regexp.MustCompile(`^\d+[kmgKMG]?$`)
	sizeRE    = regexp.MustCompile(`^\d+[KMGT]?$`)
)

func str(p map[string]any, k string) string {
	switch v := p[k].(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func needName(p map[string]any, k string) (string, error) {
	s := str(p, k)
	if s == "" || len(s) > 253 || !nameRE.MatchString(s) {
		return "", fmt.Errorf("invalid %s: %q", k, s)
	}
	return s, nil
}

func needService(p map[string]any) (string, error) {
	s := str(p, "service")
	if s == "" || len(s) > 253 || !serviceRE.MatchString(s) {
		return "", fmt.Errorf("invalid service: %q", s)
	}
	return s, nil
}

func needArg(p map[string]any, k string) (string, error) {
	s := str(p, k)
	if s == "" || len(s) > 253 || !argRE.MatchString(s) || strings.HasPrefix(s, "-") {
		return "", fmt.Errorf("invalid %s: %q", k, s)
	}
	return s, nil
}

func needInt(p map[string]any, k string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(str(p, k))
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be an integer between %d and %d", k, lo, hi)
	}
	return n, nil
}

func one(argv ...string) [][]string { return [][]string{argv} }

// svcChain builds the service fallback chain for verb.
func svcChain(verb string) []handler {
	return []handler{
		{"systemctl", func(p map[string]any) ([][]string, error) {
			s, err := needService(p)
			return one("systemctl", verb, s), err
		}},
		{"rc-service", func(p map[string]any) ([][]string, error) {
			s, err := needService(p)
			return one("rc-service", s, verb), err
		}},
		{"service", func(p map[string]any) ([][]string, error) {
			s, err := needService(p)
			return one("service", s, verb), err
		}},
		{"powershell", func(p map[string]any) ([][]string, error) {
			s, err := needService(p)
			return one("powershell", "-NoProfile", "-NonInteractive", "-Command", "Restart-Service", "-Name", s), err
		}},
	}
}

func ctrChain(verb string) []handler {
	mk := func(rt string) handler {
		return handler{rt, func(p map[string]any) ([][]string, error) {
			c, err := needName(p, "container")
			return one(rt, verb, c), err
		}}
	}
	return []handler{mk("docker"), mk("podman")}
}

func simple(requires string, argv ...string) handler {
	return handler{requires, func(map[string]any) ([][]string, error) { return one(argv...), nil }}
}

func withArg(requires string, k string, build func(v string) []string) handler {
	return handler{requires, func(p map[string]any) ([][]string, error) {
		v, err := needArg(p, k)
		return one(build(v)...), err
	}}
}

// registry builds the 55 action types.
func registry() map[string]*Action {
	acts := []*Action{
		// low
		{Name: "restart_container", Risk: RiskLow, Params: []string{"container"}, TimeoutS: 30, SettleS: 5,
			agent: func(p map[string]any) (string, map[string]any, error) {
				c, err := needName(p, "container")
				return "container_control", map[string]any{"container": c, "action": "restart"}, err
			}, chain: ctrChain("restart")},
		{Name: "restart_service", Risk: RiskLow, Params: []string{"service"}, TimeoutS: 30, SettleS: 5,
			agent: func(p map[string]any) (string, map[string]any, error) {
				s, err := needService(p)
				return "restart_service", map[string]any{"service": s}, err
			}, chain: svcChain("restart")},
		{Name: "flush_dns", Risk: RiskLow, TimeoutS: 15, SettleS: 2,
			agent: func(p map[string]any) (string, map[string]any, error) {
				s := str(p, "service")
				if s == "" {
					s = "pihole-FTL"
				}
				return "restart_service", map[string]any{"service": s}, nil
			},
			chain: []handler{simple("resolvectl", "resolvectl", "flush-caches"), simple("systemd-resolve", "systemd-resolve", "--flush-caches"),
				simple("powershell", "ipconfig", "/flushdns")}},
		{Name: "clear_cache", Risk: RiskLow, Params: []string{"target"}, TimeoutS: 15, SettleS: 2,
			chain: []handler{{"sysctl", func(p map[string]any) ([][]string, error) {
				if t := str(p, "target"); t != "" && t != "system" {
					return nil, userErr("Unknown cache target: %s", t)
				}
				return [][]string{{"sync"}, {"sysctl", "-w", "vm.drop_caches=3"}}, nil
			}}}},
		{Name: "webhook", Risk: RiskLow, Params: []string{"url"}, TimeoutS: 10, local: runWebhook},
		{Name: "service_reload", Risk: RiskLow, Params: []string{"service"}, TimeoutS: 15, SettleS: 2, chain: svcChain("reload")},
		{Name: "service_reset_failed", Risk: RiskLow, Params: []string{"service"}, TimeoutS: 15, SettleS: 2,
			chain: []handler{{"systemctl", func(p map[string]any) ([][]string, error) {
				s, err := needService(p)
				return one("systemctl", "reset-failed", s), err
			}}}},
		{Name: "container_pause", Risk: RiskLow, Params: []string{"container"}, TimeoutS: 15, SettleS: 2, Reverse: "container_unpause",
			agent: func(p map[string]any) (string, map[string]any, error) {
				c, err := needName(p, "container")
				return "container_control", map[string]any{"container": c, "action": "pause"}, err
			}, chain: ctrChain("pause")},
		{Name: "container_image_pull", Risk: RiskLow, Params: []string{"container"}, TimeoutS: 60,
			chain: []handler{withArg("docker", "image", func(v string) []string { return []string{"docker", "pull", v} }),
				withArg("podman", "image", func(v string) []string { return []string{"podman", "pull", v} })}},
		{Name: "process_kill", Risk: RiskLow, Params: []string{"pid"}, TimeoutS: 10, SettleS: 2,
			agent: func(p map[string]any) (string, map[string]any, error) {
				n, err := needInt(p, "pid", 2, 1<<22)
				return "process_kill", map[string]any{"pid": n}, err
			},
			chain: []handler{{"kill", func(p map[string]any) ([][]string, error) {
				n, err := needInt(p, "pid", 2, 1<<22)
				return one("kill", "-TERM", strconv.Itoa(n)), err
			}}, {"powershell", func(p map[string]any) ([][]string, error) {
				n, err := needInt(p, "pid", 2, 1<<22)
				return one("powershell", "-NoProfile", "-Command", "Stop-Process", "-Id", strconv.Itoa(n), "-Force"), err
			}}}},
		{Name: "nice_adjust", Risk: RiskLow, Params: []string{"pid", "priority"}, TimeoutS: 5, Reverse: "nice_adjust",
			chain: []handler{{"renice", func(p map[string]any) ([][]string, error) {
				n, err := needInt(p, "pid", 2, 1<<22)
				if err != nil {
					return nil, err
				}
				pr, err := needInt(p, "priority", -20, 19)
				return one("renice", "-n", strconv.Itoa(pr), "-p", strconv.Itoa(n)), err
			}}}},
		{Name: "log_rotate", Risk: RiskLow, Params: []string{"service"}, TimeoutS: 30,
			chain: []handler{{"logrotate", func(p map[string]any) ([][]string, error) {
				s, err := needService(p)
				if err != nil {
					return nil, err
				}
				if s == "all" {
					return one("logrotate", "-f", "/etc/logrotate.conf"), nil
				}
				return one("logrotate", "-f", "/etc/logrotate.d/"+s), nil
			}}}},
		{Name: "temp_cleanup", Risk: RiskLow, Params: []string{"path", "max_age_hours"}, TimeoutS: 60,
			chain: []handler{{"find", func(p map[string]any) ([][]string, error) {
				path := filepath.Clean(str(p, "path"))
				if path != "/tmp" && path != "/var/tmp" && !strings.HasPrefix(path, "/tmp/") && !strings.HasPrefix(path, "/var/tmp/") {
					return nil, fmt.Errorf("temp_cleanup only cleans /tmp or /var/tmp, not %q", path)
				}
				if !argRE.MatchString(path) {
					return nil, fmt.Errorf("invalid path: %q", path)
				}
				h, err := needInt(p, "max_age_hours", 1, 24*365)
				return one("find", path, "-xdev", "-mindepth", "1", "-type", "f", "-mmin", "+"+strconv.Itoa(h*60), "-delete"), err
			}}}},
		{Name: "dns_cache_clear", Risk: RiskLow, Params: []string{"instance_id"}, TimeoutS: 15, SettleS: 2, local: instanceAction("dns_cache_clear")},
		{Name: "event_log_clear", Risk: RiskLow, Params: []string{"log_name"}, TimeoutS: 30,
			chain: []handler{withArg("wevtutil", "log_name", func(v string) []string { return []string{"wevtutil", "cl", v} })}},
		{Name: "sfc_scan", Risk: RiskLow, TimeoutS: 300, chain: []handler{simple("sfc", "sfc", "/scannow")}},
		{Name: "journal_vacuum", Risk: RiskLow, Params: []string{"max_size"}, TimeoutS: 30,
			chain: []handler{{"journalctl", func(p map[string]any) ([][]string, error) {
				s := str(p, "max_size")
				if !sizeRE.MatchString(s) {
					return nil, fmt.Errorf("invalid max_size: %q (e.g. 500M)", s)
				}
				return one("journalctl", "--vacuum-size="+s), nil
			}}}},
		{Name: "package_cache_clean", Risk: RiskLow, TimeoutS: 60, chain: pkgClean()},
		{Name: "windows_update_check", Risk: RiskLow, TimeoutS: 120, chain: []handler{simple("powershell", "usoclient", "StartScan")}},
		{Name: "disk_cleanup", Risk: RiskLow, Params: []string{"mount"}, TimeoutS: 120,
			chain: []handler{withArg("fstrim", "mount", func(v string) []string { return []string{"fstrim", "-v", v} }),
				simple("powershell", "cleanmgr", "/sagerun:1")}},
		// medium
		{Name: "trigger_backup", Risk: RiskMedium, Params: []string{"source"}, TimeoutS: 300, local: runBackup},
		{Name: "scale_container", Risk: RiskMedium, Params: []string{"container", "cpu_limit", "mem_limit"}, TimeoutS: 30, SettleS: 5,
			Reverse: "scale_container", chain: []handler{scaleHandler("docker"), scaleHandler("podman")}},
		{Name: "automation", Risk: RiskMedium, Params: []string{"automation_id"}, TimeoutS: 300, local: runAutomation},
		{Name: "agent_command", Risk: RiskMedium, Params: []string{"hostname", "command"}, TimeoutS: 30, local: runAgentCommand},
		{Name: "container_recreate", Risk: RiskMedium, Params: []string{"container"}, TimeoutS: 120, SettleS: 10,
			chain: []handler{{"docker", func(p map[string]any) ([][]string, error) {
				c, err := needName(p, "container")
				if err != nil {
					return nil, err
				}
				pr := str(p, "project")
				if pr == "" || !nameRE.MatchString(pr) {
					return nil, fmt.Errorf("container_recreate needs 'project' (the compose project of %s)", c)
				}
				return one("docker", "compose", "-p", pr, "up", "-d", "--force-recreate", "--no-deps", c), nil
			}}}},
		{Name: "service_dependency_restart", Risk: RiskMedium, Params: []string{"service"}, TimeoutS: 120, SettleS: 10,
			chain: []handler{{"systemctl", func(p map[string]any) ([][]string, error) {
				s, err := needService(p)
				return [][]string{{"systemctl", "reset-failed", s}, {"systemctl", "restart", s}}, err
			}}}},
		{Name: "storage_cleanup", Risk: RiskMedium, Params: []string{"targets"}, TimeoutS: 300, local: runStorageCleanup},
		{Name: "cert_renew", Risk: RiskMedium, Params: []string{"domain"}, TimeoutS: 120, SettleS: 5,
			chain: []handler{withArg("certbot", "domain", func(v string) []string { return []string{"certbot", "renew", "--cert-name", v} })}},
		{Name: "vpn_reconnect", Risk: RiskMedium, Params: []string{"interface"}, TimeoutS: 30, SettleS: 5,
			chain: []handler{{"tailscale", func(p map[string]any) ([][]string, error) {
				return [][]string{{"tailscale", "down"}, {"tailscale", "up"}}, nil
			}}, {"wg-quick", func(p map[string]any) ([][]string, error) {
				i, err := needArg(p, "interface")
				return [][]string{{"wg-quick", "down", i}, {"wg-quick", "up", i}}, err
			}}}},
		{Name: "zfs_scrub", Risk: RiskMedium, Params: []string{"pool"}, TimeoutS: 600,
			chain: []handler{withArg("zfs", "pool", func(v string) []string { return []string{"zpool", "scrub", v} })}},
		{Name: "btrfs_scrub", Risk: RiskMedium, Params: []string{"mount"}, TimeoutS: 600,
			chain: []handler{withArg("btrfs", "mount", func(v string) []string { return []string{"btrfs", "scrub", "start", v} })}},
		{Name: "chkdsk", Risk: RiskMedium, Params: []string{"volume"}, TimeoutS: 600,
			chain: []handler{withArg("chkdsk", "volume", func(v string) []string { return []string{"chkdsk", v, "/scan"} })}},
		{Name: "fsck_schedule", Risk: RiskMedium, Params: []string{"device"}, TimeoutS: 10,
			chain: []handler{withArg("tune2fs", "device", func(v string) []string { return []string{"tune2fs", "-C", "65535", v} })}},
		{Name: "backup_verify", Risk: RiskMedium, Params: []string{"backup_set"}, TimeoutS: 300,
			chain: []handler{simple("restic", "restic", "check")}},
		{Name: "servarr_queue_cleanup", Risk: RiskMedium, Params: []string{"instance_id"}, TimeoutS: 30, local: instanceAction("servarr_queue_cleanup")},
		{Name: "media_library_scan", Risk: RiskMedium, Params: []string{"instance_id"}, TimeoutS: 60, local: instanceAction("media_library_scan")},
		{Name: "network_interface_restart", Risk: RiskMedium, Params: []string{"nic"}, TimeoutS: 15, SettleS: 5,
			chain: []handler{{"ip", func(p map[string]any) ([][]string, error) {
				n, err := needName(p, "nic")
				return [][]string{{"ip", "link", "set", n, "down"}, {"ip", "link", "set", n, "up"}}, err
			}}, {"ifconfig", func(p map[string]any) ([][]string, error) {
				n, err := needName(p, "nic")
				return [][]string{{"ifconfig", n, "down"}, {"ifconfig", n, "up"}}, err
			}}, {"powershell", func(p map[string]any) ([][]string, error) {
				n, err := needName(p, "nic")
				return one("powershell", "-NoProfile", "-Command", "Restart-NetAdapter", "-Name", n), err
			}}}},
		{Name: "compose_restart", Risk: RiskMedium, Params: []string{"project"}, TimeoutS: 120, SettleS: 10,
			chain: []handler{{"docker", func(p map[string]any) ([][]string, error) {
				pr, err := needName(p, "project")
				return one("docker", "compose", "-p", pr, "restart"), err
			}}}},
		{Name: "scheduled_task_repair", Risk: RiskMedium, Params: []string{"task"}, TimeoutS: 30,
			chain: []handler{withArg("powershell", "task", func(v string) []string { return []string{"schtasks", "/Change", "/TN", v, "/ENABLE"} })}},
		{Name: "iis_app_pool_recycle", Risk: RiskMedium, Params: []string{"pool_name"}, TimeoutS: 30, SettleS: 5,
			chain: []handler{withArg("powershell", "pool_name", func(v string) []string {
				return []string{"powershell", "-NoProfile", "-Command", "Restart-WebAppPool", "-Name", v}
			})}},
		{Name: "wsl_restart", Risk: RiskMedium, TimeoutS: 30, SettleS: 5, chain: []handler{simple("powershell", "wsl", "--shutdown")}},
		{Name: "memory_pressure_relief", Risk: RiskMedium, TimeoutS: 60, SettleS: 5,
			chain: []handler{{"sysctl", func(map[string]any) ([][]string, error) {
				return [][]string{{"sync"}, {"sysctl", "-w", "vm.drop_caches=1"}, {"sysctl", "-w", "vm.compact_memory=1"}}, nil
			}}}},
		// high
		{Name: "failover_dns", Risk: RiskHigh, Params: []string{"primary", "secondary"}, TimeoutS: 30, SettleS: 10, Reverse: "failover_dns",
			local: runFailoverDNS},
		{Name: "run_playbook", Risk: RiskHigh, Params: []string{"playbook_id"}, TimeoutS: 600, local: runPlaybook},
		{Name: "run", Risk: RiskHigh, Params: []string{"command"}, TimeoutS: 60, local: runAllowlisted},
		{Name: "host_reboot", Risk: RiskHigh, Params: []string{"hostname"}, TimeoutS: 120, SettleS: 60,
			agent: func(map[string]any) (string, map[string]any, error) { return "reboot", map[string]any{"delay": 1}, nil },
			chain: []handler{simple("shutdown", "shutdown", "-r", "+1"), simple("powershell", "shutdown", "/r", "/t", "60")}},
		{Name: "vm_restart", Risk: RiskHigh, Params: []string{"vm_id", "platform"}, TimeoutS: 60, SettleS: 30,
			chain: []handler{vmHandler("qm", "proxmox", func(id string, _ map[string]any) ([]string, error) { return []string{"qm", "reboot", id}, nil }),
				vmHandler("virsh", "libvirt", func(id string, _ map[string]any) ([]string, error) { return []string{"virsh", "reboot", id}, nil })}},
		{Name: "vm_migrate", Risk: RiskHigh, Params: []string{"vm_id", "target_node"}, TimeoutS: 300, SettleS: 30, Reverse: "vm_migrate",
			chain: []handler{{"qm", func(p map[string]any) ([][]string, error) {
				id, err := needInt(p, "vm_id", 1, 999999999)
				if err != nil {
					return nil, err
				}
				n, err := needName(p, "target_node")
				return one("qm", "migrate", strconv.Itoa(id), n, "--online"), err
			}}}},
		{Name: "package_security_patch", Risk: RiskHigh, Params: []string{"hostname"}, TimeoutS: 600,
			chain: []handler{simple("apt", "apt-get", "-y", "--only-upgrade", "upgrade"), simple("dnf", "dnf", "upgrade", "--security", "-y"),
				simple("apk", "apk", "upgrade"), simple("powershell", "usoclient", "StartInstall")}},
		{Name: "snapshot_rollback", Risk: RiskHigh, Params: []string{"target", "snapshot"}, TimeoutS: 120, SettleS: 30,
			chain: []handler{{"zfs", func(p map[string]any) ([][]string, error) {
				t, err := needArg(p, "target")
				if err != nil {
					return nil, err
				}
				s, err := needName(p, "snapshot")
				return one("zfs", "rollback", t+"@"+s), err
			}}}},
		{Name: "firewall_rule_add", Risk: RiskHigh, Params: []string{"rule"}, TimeoutS: 15, SettleS: 5, Reverse: "firewall_rule_remove",
			chain: []handler{fwHandler("-A")}},
		{Name: "driver_rollback", Risk: RiskHigh, Params: []string{"device"}, TimeoutS: 120, SettleS: 30,
			refuse: func(map[string]any) string {
				return "driver_rollback is not automated: no supported OS offers an unattended driver rollback (Windows' Roll Back Driver " +
					"exists only in Device Manager; Linux keeps no previous driver version). Roll the driver back on the host, or use snapshot_rollback"
			}},
		{Name: "raid_rebuild", Risk: RiskHigh, Params: []string{"array", "disk"}, TimeoutS: 600,
			chain: []handler{{"mdadm", func(p map[string]any) ([][]string, error) {
				a, err := needArg(p, "array")
				if err != nil {
					return nil, err
				}
				d, err := needArg(p, "disk")
				return one("mdadm", "--manage", a, "--add", d), err
			}}}},
		{Name: "group_policy_refresh", Risk: RiskHigh, TimeoutS: 60, SettleS: 10, chain: []handler{simple("powershell", "gpupdate", "/force")}},
		{Name: "ad_replication_force", Risk: RiskHigh, TimeoutS: 120, SettleS: 10, chain: []handler{simple("powershell", "repadmin", "/syncall", "/AdeP")}},
	}
	out := make(map[string]*Action, len(acts)+3)
	for _, a := range acts {
		out[a.Name] = a
	}
	return out
}

// reverses are the internal reverse actions (not part of the 55).
func reverses() map[string]*Action {
	return map[string]*Action{
		"container_unpause": {Name: "container_unpause", Risk: RiskLow, Params: []string{"container"}, TimeoutS: 15,
			agent: func(p map[string]any) (string, map[string]any, error) {
				c, err := needName(p, "container")
				return "container_control", map[string]any{"container": c, "action": "unpause"}, err
			}, chain: ctrChain("unpause")},
		"firewall_rule_remove": {Name: "firewall_rule_remove", Risk: RiskHigh, Params: []string{"rule"}, TimeoutS: 15, chain: []handler{fwHandler("-D")}},
	}
}

func pkgClean() []handler {
	return []handler{simple("apt", "apt-get", "clean"), simple("dnf", "dnf", "clean", "all"), simple("apk", "apk", "cache", "clean"),
		simple("pacman", "pacman", "-Sc", "--noconfirm")}
}

func scaleHandler(rt string) handler {
	return handler{rt, func(p map[string]any) ([][]string, error) {
		c, err := needName(p, "container")
		if err != nil {
			return nil, err
		}
		argv := []string{rt, "update"}
		if v := str(p, "cpu_limit"); v != "" {
			if !cpuRE.MatchString(v) {
				return nil, fmt.Errorf("invalid cpu_limit: %q", v)
			}
			argv = append(argv, "--cpus", v)
		}
		if v := str(p, "mem_limit"); v != "" {
			if !memRE.MatchString(v) {
				return nil, fmt.Errorf("invalid mem_limit: %q", v)
			}
			argv = append(argv, "--memory", v)
		}
		if len(argv) == 2 {
			return nil, fmt.Errorf("scale_container needs cpu_limit or mem_limit")
		}
		return one(append(argv, c)...), nil
	}}
}

func vmHandler(tool, platform string, build func(id string, p map[string]any) ([]string, error)) handler {
	return handler{tool, func(p map[string]any) ([][]string, error) {
		if pl := str(p, "platform"); pl != platform {
			return nil, fmt.Errorf("platform %q is not %s", pl, platform)
		}
		id, err := needArg(p, "vm_id")
		if err != nil {
			return nil, err
		}
		argv, err := build(id, p)
		return one(argv...), err
	}}
}

var fwTokenRE = regexp.MustCompile(`^(-[a-z]|--[a-z][a-z-]*|[a-zA-Z0-9._/:,]+)$`)

// fwHandler adds (-A) or deletes (-D) an iptables INPUT rule given as
// tokens ("-p tcp --dport 22 -s 10.0.0.0/8 -j DROP").
func fwHandler(op string) handler {
	return handler{"iptables", func(p map[string]any) ([][]string, error) {
		toks := strings.Fields(str(p, "rule"))
		if len(toks) == 0 || len(toks) > 24 {
			return nil, fmt.Errorf("rule must be 1 to 24 iptables tokens")
		}
		for _, t := range toks {
			if !fwTokenRE.MatchString(t) {
				return nil, fmt.Errorf("invalid rule token: %q", t)
			}
		}
		return one(append([]string{"iptables", op, "INPUT"}, toks...)...), nil
	}}
}

// runLocal runs argv steps on the server.
func runLocal(ctx context.Context, steps [][]string, timeout time.Duration) Result {
	var out []string
	for _, argv := range steps {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		b, err := exec.CommandContext(cctx, argv[0], argv[1:]...).CombinedOutput()
		cancel()
		text := strings.TrimSpace(string(b))
		if err != nil {
			return Result{Output: trunc(strings.Join(append(out, text), "\n")), Error: fmt.Sprintf("%s: %v", strings.Join(argv, " "), err)}
		}
		out = append(out, fmt.Sprintf("%s: OK", strings.Join(argv, " ")))
		if text != "" {
			out = append(out, text)
		}
	}
	return Result{Success: true, Output: trunc(strings.Join(out, "\n"))}
}

func trunc(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}

func runBackup(ctx context.Context, x *Executor, p map[string]any, _ string) Result {
	script := filepath.Join(x.d.ScriptDir, "backup-to-nas.sh")
	if x.d.ScriptDir == "" || x.d.Runner == nil {
		return Result{Error: "No backup automation or script found. Configure a backup automation first."}
	}
	if _, err := os.Stat(script); err != nil {
		return Result{Error: "No backup automation or script found. Configure a backup automation first."}
	}
	id, err := x.d.Runner.Submit(ctx, runner.Spec{Trigger: "remediation:trigger_backup:" + str(p, "source"), TriggeredBy: "system",
		Command: &runner.Command{Argv: []string{"bash", script}}})
	if err != nil {
		return Result{Error: fmt.Sprintf("Backup could not start: %v", err)}
	}
	return Result{Success: true, Output: fmt.Sprintf("Backup script triggered: run_id=%d", id)}
}

func runAutomation(ctx context.Context, x *Executor, p map[string]any, _ string) Result {
	return startAutomation(ctx, x, str(p, "automation_id"), false)
}

func runPlaybook(ctx context.Context, x *Executor, p map[string]any, _ string) Result {
	return startAutomation(ctx, x, str(p, "playbook_id"), true)
}

func startAutomation(ctx context.Context, x *Executor, id string, playbook bool) Result {
	if x.d.Automations == nil {
		return Result{Error: "Automation runs are not available on this server"}
	}
	if id == "" {
		return Result{Error: "automation id is required"}
	}
	s, err := x.d.Automations.RunAutomation(ctx, id, playbook)
	if err != nil {
		return Result{Error: err.Error()}
	}
	switch {
	case playbook:
		return Result{Success: true, Output: "Playbook started: " + s.Name}
	case s.RunID != nil:
		return Result{Success: true, Output: fmt.Sprintf("Automation started: %s run_id=%d", s.Name, *s.RunID)}
	}
	return Result{Success: true, Output: "Automation started: " + s.Name}
}

func runAgentCommand(ctx context.Context, x *Executor, p map[string]any, _ string) Result {
	if x.d.Agents == nil {
		return Result{Error: "Agents are not available"}
	}
	host, cmd := str(p, "hostname"), str(p, "command")
	params, _ := p["params"].(map[string]any)
	res, err := x.d.Agents.Run(ctx, host, cmd, params, "healing", 30*time.Second)
	if err != nil {
		return Result{Error: err.Error()}
	}
	if res == nil {
		return Result{Output: "Agent command timed out on " + host, Error: "Agent command timed out on " + host}
	}
	st := str(res, "status")
	return Result{Success: st != "error", Output: "Agent command: " + st, Remote: true}
}

func runStorageCleanup(ctx context.Context, x *Executor, p map[string]any, target string) Result {
	list, _ := p["targets"].([]any)
	if len(list) == 0 {
		return Result{Error: "targets must be a non-empty list (docker_images, package_cache, old_logs)"}
	}
	var outs []string
	ok := true
	for _, t := range list {
		var chain []handler
		switch fmt.Sprint(t) {
		case "docker_images":
			chain = []handler{simple("docker", "docker", "image", "prune", "-f"), simple("podman", "podman", "image", "prune", "-f")}
		case "package_cache":
			chain = pkgClean()
		case "old_logs":
			chain = []handler{simple("journalctl", "journalctl", "--vacuum-time=7d")}
		default:
			return Result{Error: fmt.Sprintf("Unknown storage cleanup target: %v", t)}
		}
		r := x.runChain(ctx, &Action{Name: "storage_cleanup", TimeoutS: 300, chain: chain}, p, target)
		outs = append(outs, fmt.Sprintf("%v: %s%s", t, r.Output, r.Error))
		ok = ok && r.Success
	}
	res := Result{Success: ok, Output: trunc(strings.Join(outs, "\n"))}
	if !ok {
		res.Error = "Some cleanup targets failed"
	}
	return res
}

var runAllow = [][]string{{"systemctl", "restart"}, {"systemctl", "reload"}, {"systemctl", "start"}, {"systemctl", "stop"},
	{"docker", "restart"}, {"docker", "start"}, {"docker", "stop"}, {"podman", "restart"}, {"podman", "start"}, {"podman", "stop"},
	{"restic", "backup"}, {"restic", "snapshots"}, {"rclone", "sync"}, {"rclone", "copy"}, {"certbot", "renew"}}

var runArgRE = regexp.MustCompile(`^[a-zA-Z0-9@._/:\-]+$`)

func runAllowlisted(ctx context.Context, _ *Executor, p map[string]any, _ string) Result {
	argv := strings.Fields(str(p, "command"))
	if len(argv) < 2 {
		first := ""
		if len(argv) == 1 {
			first = argv[0]
		}
		return Result{Error: "Command not in allowlist: " + first}
	}
	allowed := false
	for _, a := range runAllow {
		if argv[0] == a[0] && argv[1] == a[1] {
			allowed = true
		}
	}
	if !allowed {
		return Result{Error: "Command not in allowlist: " + argv[0]}
	}
	for _, a := range argv[2:] {
		// Flags are checked too (the original let any flag through, §8).
		if !runArgRE.MatchString(a) || strings.Contains(a, "=/") || a == "--exec" || strings.HasPrefix(a, "--config") {
			return Result{Error: fmt.Sprintf("Invalid argument: '%s'", a)}
		}
	}
	return runLocal(ctx, [][]string{argv}, 60*time.Second)
}

func runFailoverDNS(_ context.Context, x *Executor, p map[string]any, _ string) Result {
	pri, sec := str(p, "primary"), str(p, "secondary")
	if pri == "" || sec == "" {
		return Result{Error: "failover_dns requires 'primary' and 'secondary'"}
	}
	if !nameRE.MatchString(pri) || !nameRE.MatchString(sec) {
		return Result{Error: "primary and secondary must be addresses"}
	}
	path := x.d.ResolvConf
	b, err := os.ReadFile(path)
	if err != nil {
		return Result{Error: "failover_dns is not supported on this platform (" + path + " missing)"}
	}
	lines := strings.Split(string(b), "\n")
	done := false
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "nameserver" && strings.Contains(f[1], pri) && !done {
			lines[i] = "nameserver " + sec
			done = true
		}
	}
	if !done {
		lines = append([]string{"nameserver " + sec}, lines...)
	}
	if err := writeAtomic(path, []byte(strings.Join(lines, "\n"))); err != nil {
		return Result{Error: err.Error()}
	}
	return Result{Success: true, Output: fmt.Sprintf("DNS failover applied: %s -> %s", pri, sec)}
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".noba-heal-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	_ = os.Chmod(tmp.Name(), 0o644)
	return os.Rename(tmp.Name(), path)
}

// userError is a message shown to users as is (ledger detail, API).
type userError string

func (e userError) Error() string { return string(e) }

func userErr(format string, a ...any) error { return userError(fmt.Sprintf(format, a...)) }
