package wire

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Risk is the tier of a command; it decides which roles may queue it.
type Risk string

// The risk tiers (spec 20 §7): low and medium for operators and admins,
// high for admins only.
const (
	Low    Risk = "low"
	Medium Risk = "medium"
	High   Risk = "high"
)

// The command types of the catalogue (42 server-known types).
const (
	CmdPing             = "ping"
	CmdCheckService     = "check_service"
	CmdGetLogs          = "get_logs"
	CmdNetworkTest      = "network_test"
	CmdPackageUpdates   = "package_updates"
	CmdSystemInfo       = "system_info"
	CmdDiskUsage        = "disk_usage"
	CmdListServices     = "list_services"
	CmdListUsers        = "list_users"
	CmdFileRead         = "file_read"
	CmdFileList         = "file_list"
	CmdFileChecksum     = "file_checksum"
	CmdFileStat         = "file_stat"
	CmdContainerList    = "container_list"
	CmdContainerLogs    = "container_logs"
	CmdDNSLookup        = "dns_lookup"
	CmdNetworkConfig    = "network_config"
	CmdNetworkStats     = "network_stats"
	CmdEndpointCheck    = "endpoint_check"
	CmdFollowLogs       = "follow_logs"
	CmdStopStream       = "stop_stream"
	CmdGetStream        = "get_stream"
	CmdDiscoverServices = "discover_services"
	CmdNetworkDiscover  = "network_discover"
	CmdSecurityScan     = "security_scan"

	CmdVerifyBackup     = "verify_backup"
	CmdRestartService   = "restart_service"
	CmdSetInterval      = "set_interval"
	CmdServiceControl   = "service_control"
	CmdFileTransfer     = "file_transfer"
	CmdFilePush         = "file_push"
	CmdContainerControl = "container_control"

	CmdExec           = "exec"
	CmdFileWrite      = "file_write"
	CmdFileDelete     = "file_delete"
	CmdUpdateAgent    = "update_agent"
	CmdPackageInstall = "package_install"
	CmdPackageRemove  = "package_remove"
	CmdUserManage     = "user_manage"
	CmdUninstallAgent = "uninstall_agent"
	CmdReboot         = "reboot"
	CmdProcessKill    = "process_kill"

	// CmdRefreshCapabilities is agent-only: it is queued by the healing
	// room and not part of the risk table.
	CmdRefreshCapabilities = "refresh_capabilities"
)

var risks = map[string]Risk{
	CmdPing: Low, CmdCheckService: Low, CmdGetLogs: Low, CmdNetworkTest: Low, CmdPackageUpdates: Low,
	CmdSystemInfo: Low, CmdDiskUsage: Low, CmdListServices: Low, CmdListUsers: Low, CmdFileRead: Low,
	CmdFileList: Low, CmdFileChecksum: Low, CmdFileStat: Low, CmdContainerList: Low, CmdContainerLogs: Low,
	CmdDNSLookup: Low, CmdNetworkConfig: Low, CmdNetworkStats: Low, CmdEndpointCheck: Low, CmdFollowLogs: Low,
	CmdStopStream: Low, CmdGetStream: Low, CmdDiscoverServices: Low, CmdNetworkDiscover: Low, CmdSecurityScan: Low,

	CmdVerifyBackup: Medium, CmdRestartService: Medium, CmdSetInterval: Medium, CmdServiceControl: Medium,
	CmdFileTransfer: Medium, CmdFilePush: Medium, CmdContainerControl: Medium,

	CmdExec: High, CmdFileWrite: High, CmdFileDelete: High, CmdUpdateAgent: High, CmdPackageInstall: High,
	CmdPackageRemove: High, CmdUserManage: High, CmdUninstallAgent: High, CmdReboot: High, CmdProcessKill: High,
}

// Commands lists the server-known command types, sorted.
func Commands() []string {
	out := make([]string, 0, len(risks))
	for k := range risks {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// RiskOf returns the tier of a command type; ok is false for unknown types.
func RiskOf(cmd string) (Risk, bool) {
	r, ok := risks[cmd]
	return r, ok
}

// IsCommand reports whether cmd is a known command type (including the
// agent-only refresh_capabilities).
func IsCommand(cmd string) bool {
	_, ok := risks[cmd]
	return ok || cmd == CmdRefreshCapabilities
}

// Allowed reports whether a principal of role ("viewer", "operator",
// "admin") may send a command of tier r.
func Allowed(role string, r Risk) bool {
	switch role {
	case "admin":
		return true
	case "operator":
		return r == Low || r == Medium
	}
	return false
}

var v1Commands = []string{CmdExec, CmdRestartService, CmdUpdateAgent, CmdSetInterval, CmdPing, CmdGetLogs,
	CmdCheckService, CmdNetworkTest, CmdPackageUpdates}

// Supports reports whether an agent reporting version supports cmd:
// version 2 and later support the whole catalogue; older, missing or
// unparseable versions only the v1 set.
func Supports(version, cmd string) bool {
	if version == "" {
		version = "1.1.0"
	}
	if p, ok := ParseVersion(version); ok && p[0] >= 2 {
		return true
	}
	return slices.Contains(v1Commands, cmd)
}

var (
	serviceRE   = regexp.MustCompile(`^[a-zA-Z0-9@._-]+$`)
	containerRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
	packageRE   = regexp.MustCompile(`^[a-zA-Z0-9._+-]+$`)
	usernameRE  = regexp.MustCompile(`^[a-z_][a-z0-9_-]*$`)
	targetRE    = regexp.MustCompile(`^[a-zA-Z0-9._:-]+$`)
	priorityRE  = regexp.MustCompile(`^[a-zA-Z0-9]+$`)
	procNameRE  = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
)

// ServiceName reports whether s is a valid systemd unit name for commands.
func ServiceName(s string) bool { return len(s) <= 256 && serviceRE.MatchString(s) }

// ContainerName reports whether s is a valid container name for commands.
func ContainerName(s string) bool { return len(s) <= 253 && containerRE.MatchString(s) }

// PackageName reports whether s is a valid package name.
func PackageName(s string) bool { return len(s) <= 256 && packageRE.MatchString(s) }

// NetTarget reports whether s is a valid ping/traceroute target.
func NetTarget(s string) bool { return len(s) <= 253 && targetRE.MatchString(s) }

// Priority reports whether s is a valid journal priority.
func Priority(s string) bool { return len(s) <= 16 && priorityRE.MatchString(s) }

// ProcessName reports whether s is a valid process name for pkill.
func ProcessName(s string) bool { return len(s) <= 64 && procNameRE.MatchString(s) }

// ServiceActions are the actions of service_control.
var ServiceActions = []string{"start", "stop", "restart", "enable", "disable", "status"}

// ContainerActions are the actions of container_control.
var ContainerActions = []string{"start", "stop", "restart", "pause", "unpause", "remove"}

// UserActions are the actions of user_manage.
var UserActions = []string{"create", "delete", "modify", "lock", "unlock"}

// ForbiddenGroups may never be granted through user_manage.
var ForbiddenGroups = []string{"sudo", "wheel", "root", "adm", "shadow"}

// VerifyTypes are the verification types of verify_backup.
var VerifyTypes = []string{"checksum", "restore_test", "db_integrity"}

var deniedExact = []string{"/etc/shadow", "/etc/passwd", "/etc/sudoers", "/etc/hosts", "/etc/ssh/sshd_config",
	"/root/.ssh/authorized_keys", "/boot/grub/grub.cfg", "/proc", "/sys", "/dev"}

var deniedPrefixes = []string{"/proc/", "/sys/", "/dev/", "/run/secrets/"}

// CheckPath applies the server's path rules (spec 20 §7.5) to a command's
// path parameter and returns the message of the first rule it breaks.
func CheckPath(p string) error {
	if p == "" {
		return errf("Path must not be empty")
	}
	if strings.ContainsRune(p, 0) {
		return errf("Path contains null byte")
	}
	for _, seg := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return errf("Path traversal ('..') is not allowed")
		}
	}
	clean := path.Clean(p)
	if slices.Contains(deniedExact, clean) || slices.Contains(deniedExact, p) {
		return errf("Path '%s' is on the denylist", p)
	}
	for _, pre := range deniedPrefixes {
		if strings.HasPrefix(clean, pre) || strings.HasPrefix(p, pre) {
			return errf("Path '%s' matches a denied pattern", p)
		}
	}
	return nil
}

// Message is an error whose text is shown to users as it is (the spec's
// messages are sentences starting with a capital letter).
type Message string

func (m Message) Error() string { return string(m) }

// Messagef formats a Message.
func Messagef(format string, args ...any) error { return Message(fmt.Sprintf(format, args...)) }

// errf builds a validation error whose message is shown to the user.
func errf(format string, args ...any) error { return Messagef(format, args...) }

func requireString(params map[string]any, k string) (string, error) {
	v, present := params[k]
	s, isStr := v.(string)
	if !present || v == nil || (isStr && strings.TrimSpace(s) == "") {
		return "", errf("Parameter '%s' is required", k)
	}
	if !isStr {
		return "", errf("Parameter '%s' must be a string", k)
	}
	return s, nil
}

func optString(params map[string]any, k string) (string, error) {
	v, present := params[k]
	if !present || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", errf("Parameter '%s' must be a string", k)
	}
	return s, nil
}

func optInt(params map[string]any, k string, lo, hi int) error {
	v, present := params[k]
	if !present || v == nil {
		return nil
	}
	if !isInt(v) {
		return errf("Parameter '%s' must be an integer", k)
	}
	n := IntOf(v, 0)
	if n < lo || n > hi {
		return errf("Parameter '%s' must be between %d and %d", k, lo, hi)
	}
	return nil
}

func oneOf(params map[string]any, k string, allowed []string, required bool) error {
	s, err := optString(params, k)
	if err != nil {
		return err
	}
	if s == "" {
		if required {
			return errf("Parameter '%s' is required", k)
		}
		return nil
	}
	if !slices.Contains(allowed, s) {
		return errf("Invalid %s '%s': must be one of %s", k, s, strings.Join(allowed, ", "))
	}
	return nil
}

func pathParam(params map[string]any, k string, required bool) error {
	s, err := optString(params, k)
	if err != nil {
		return err
	}
	if s == "" && !required {
		return nil
	}
	return CheckPath(s)
}

// firstOf returns the first present key of keys (aliases of one parameter).
func firstOf(params map[string]any, keys ...string) string {
	for _, k := range keys {
		if v, ok := params[k]; ok && v != nil {
			return k
		}
	}
	return keys[0]
}

// ValidateParams applies the server's parameter rules of cmd (spec 20 §7,
// with the server/agent mismatches of §19 resolved: both sides accept the
// same names). The error's text is the message for the 400 answer.
func ValidateParams(cmd string, params map[string]any) error {
	if params == nil {
		params = map[string]any{}
	}
	switch cmd {
	case CmdCheckService, CmdRestartService:
		s, err := requireString(params, "service")
		if err != nil {
			return err
		}
		if !ServiceName(s) {
			return errf("Invalid service name")
		}
	case CmdServiceControl:
		s, err := requireString(params, "service")
		if err != nil {
			return err
		}
		if !ServiceName(s) {
			return errf("Invalid service name")
		}
		return oneOf(params, "action", ServiceActions, true)
	case CmdGetLogs:
		k := firstOf(params, "unit", "service")
		s, err := optString(params, k)
		if err != nil {
			return err
		}
		if s != "" && !ServiceName(s) {
			return errf("Invalid service name")
		}
		if p, _ := optString(params, "priority"); p != "" && !Priority(p) {
			return errf("Invalid priority")
		}
		return optInt(params, "lines", 1, 10000)
	case CmdFollowLogs:
		if err := pathParam(params, "path", false); err != nil {
			return err
		}
		if s, err := optString(params, "unit"); err != nil {
			return err
		} else if s != "" && !ServiceName(s) {
			return errf("Invalid unit name")
		}
		if p, err := optString(params, "priority"); err != nil {
			return err
		} else if p != "" && !Priority(p) {
			return errf("Invalid priority")
		}
		return optInt(params, "lines", 1, 10000)
	case CmdStopStream, CmdGetStream:
		s, err := requireString(params, "stream_id")
		if err != nil {
			return err
		}
		if !ValidCommandID(s) {
			return errf("Invalid stream_id")
		}
	case CmdNetworkTest:
		t, err := requireString(params, "target")
		if err != nil {
			return err
		}
		if !NetTarget(t) {
			return errf("Invalid target")
		}
		return oneOf(params, "mode", []string{"ping", "trace"}, false)
	case CmdDiskUsage:
		return pathParam(params, "path", false)
	case CmdFileRead, CmdFileChecksum, CmdFileStat, CmdFileDelete:
		if err := pathParam(params, "path", true); err != nil {
			return err
		}
		if cmd == CmdFileChecksum {
			return oneOf(params, "algorithm", []string{"sha256", "md5"}, false)
		}
		if cmd == CmdFileRead {
			if err := optInt(params, "offset", 0, math.MaxInt32); err != nil {
				return err
			}
			return optInt(params, "lines", 1, 100000)
		}
	case CmdFileList:
		if err := pathParam(params, "path", false); err != nil {
			return err
		}
		if p, err := optString(params, "pattern"); err != nil {
			return err
		} else if strings.Contains(p, "..") || strings.ContainsAny(p, "/\x00") {
			return errf("Invalid pattern")
		}
		return optInt(params, "max", 1, 500)
	case CmdFileWrite:
		if err := pathParam(params, "path", true); err != nil {
			return err
		}
		v, ok := params["content"]
		c, isStr := v.(string)
		if !ok || !isStr {
			return errf("Parameter 'content' is required")
		}
		if len(c) > MaxWriteContent {
			return errf("Parameter 'content' exceeds 1 MiB")
		}
	case CmdVerifyBackup:
		if err := pathParam(params, "path", true); err != nil {
			return err
		}
		return oneOf(params, "verification_type", VerifyTypes, false)
	case CmdFileTransfer:
		return pathParam(params, firstOf(params, "path", "source"), true)
	case CmdFilePush:
		if err := pathParam(params, firstOf(params, "path", "destination"), true); err != nil {
			return err
		}
		id, err := requireString(params, "transfer_id")
		if err != nil {
			return err
		}
		if !ValidTransferID(id) {
			return errf("Invalid transfer_id")
		}
	case CmdContainerList:
		if v, ok := params["all"]; ok && v != nil {
			if _, isBool := v.(bool); !isBool {
				return errf("Parameter 'all' must be a boolean")
			}
		}
	case CmdContainerLogs:
		c, err := requireString(params, "container")
		if err != nil {
			return err
		}
		if !ContainerName(c) {
			return errf("Invalid container name")
		}
		if err := optInt(params, "lines", 1, 10000); err != nil {
			return err
		}
		return optInt(params, "tail", 1, 10000)
	case CmdContainerControl:
		c, err := requireString(params, "container")
		if err != nil {
			return err
		}
		if !ContainerName(c) {
			return errf("Invalid container name")
		}
		return oneOf(params, "action", ContainerActions, true)
	case CmdDNSLookup:
		h, err := requireString(params, "host")
		if err != nil {
			return err
		}
		if len(h) > 253 || !NetTarget(h) {
			return errf("Invalid host")
		}
		if t, err := optString(params, "type"); err != nil {
			return err
		} else if t != "" && !regexp.MustCompile(`^[A-Za-z]{1,10}$`).MatchString(t) {
			return errf("Invalid record type")
		}
	case CmdEndpointCheck:
		u, err := requireString(params, "url")
		if err != nil {
			return err
		}
		if len(u) > 2048 || !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
			return errf("Parameter 'url' must be an http(s) URL of at most 2048 characters")
		}
		if err := oneOf(params, "method", []string{"GET", "HEAD"}, false); err != nil {
			return err
		}
		return optInt(params, "timeout", 1, 30)
	case CmdSetInterval:
		v, ok := params["interval"]
		if !ok || !isInt(v) {
			return errf("Parameter 'interval' must be an integer")
		}
		return optInt(params, "interval", 5, 86400)
	case CmdExec:
		c, err := requireString(params, "command")
		if err != nil {
			return err
		}
		if len(c) > 4096 {
			return errf("Parameter 'command' exceeds 4096 characters")
		}
		return optInt(params, "timeout", 0, 3600)
	case CmdPackageInstall, CmdPackageRemove:
		p, err := requireString(params, "package")
		if err != nil {
			return err
		}
		if !PackageName(p) {
			return errf("Invalid package name")
		}
	case CmdUserManage:
		u, err := requireString(params, "username")
		if err != nil {
			return err
		}
		if len(u) > 32 || !usernameRE.MatchString(u) {
			return errf("Invalid username")
		}
		if err := oneOf(params, "action", UserActions, true); err != nil {
			return err
		}
		groups, err := Groups(params["groups"])
		if err != nil {
			return err
		}
		for _, g := range groups {
			if slices.Contains(ForbiddenGroups, g) {
				return errf("Group '%s' is not allowed", g)
			}
			if !usernameRE.MatchString(g) {
				return errf("Invalid group name '%s'", g)
			}
		}
	case CmdUninstallAgent:
		if v, ok := params["confirm"].(bool); !ok || !v {
			return errf("Parameter 'confirm' must be true to uninstall the agent")
		}
	case CmdReboot:
		return optInt(params, "delay", 0, 10080)
	case CmdProcessKill:
		if v, ok := params["pid"]; ok && v != nil {
			if !isInt(v) || IntOf(v, 0) <= 0 {
				return errf("Parameter 'pid' must be a positive integer")
			}
		} else {
			n, err := optString(params, "name")
			if err != nil {
				return err
			}
			if n == "" {
				return errf("Parameter 'pid' is required")
			}
			if !ProcessName(n) {
				return errf("Invalid process name")
			}
		}
		if s, err := optString(params, "signal"); err != nil {
			return err
		} else if s != "" && !regexp.MustCompile(`^(SIG)?[A-Z0-9]{2,8}$`).MatchString(s) {
			return errf("Invalid signal")
		}
	}
	return nil
}

// Groups reads user_manage's groups parameter: a list of names or a
// comma-separated string.
func Groups(v any) ([]string, error) {
	var out []string
	switch x := v.(type) {
	case nil:
	case string:
		for _, g := range strings.Split(x, ",") {
			if g = strings.TrimSpace(g); g != "" {
				out = append(out, g)
			}
		}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, errf("Parameter 'groups' must be a list of names")
			}
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case []string:
		out = x
	default:
		return nil, errf("Parameter 'groups' must be a list of names")
	}
	return out, nil
}
