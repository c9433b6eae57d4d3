package wire

import (
	"fmt"
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

// Spec describes one command type: its name, risk tier, the role it takes
// to queue it, and its parameter struct. The server validates with it
// before queueing; the agent decodes and validates with it before running
// the handler it registered for the name.
type Spec struct {
	Name string
	// Risk is "" for agent-only commands (not queueable through the API).
	Risk Risk
	// NewParams returns a fresh parameter struct.
	NewParams func() Params
}

// Role is the lowest role that may queue the command ("" for agent-only).
func (s Spec) Role() string {
	switch s.Risk {
	case Low, Medium:
		return "operator"
	case High:
		return "admin"
	}
	return ""
}

// Decode reads and validates params into the command's parameter struct.
func (s Spec) Decode(params map[string]any) (Params, error) {
	p := s.NewParams()
	if err := DecodeParams(params, p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func none() Params { return &NoParams{} }

func newOf[T any, P interface {
	*T
	Params
}]() func() Params {
	return func() Params { return P(new(T)) }
}

func pathSpec(required bool) func() Params {
	return func() Params { return &PathParams{required: required} }
}

// registry is the shared command catalogue (spec 20 §7).
var registry = map[string]Spec{}

func init() {
	for _, s := range []Spec{
		{CmdPing, Low, none},
		{CmdCheckService, Low, newOf[ServiceParams]()},
		{CmdGetLogs, Low, newOf[GetLogsParams]()},
		{CmdNetworkTest, Low, newOf[NetworkTestParams]()},
		{CmdPackageUpdates, Low, none},
		{CmdSystemInfo, Low, none},
		{CmdDiskUsage, Low, pathSpec(false)},
		{CmdListServices, Low, none},
		{CmdListUsers, Low, none},
		{CmdFileRead, Low, newOf[FileReadParams]()},
		{CmdFileList, Low, newOf[FileListParams]()},
		{CmdFileChecksum, Low, newOf[FileChecksumParams]()},
		{CmdFileStat, Low, pathSpec(true)},
		{CmdContainerList, Low, newOf[ContainerListParams]()},
		{CmdContainerLogs, Low, newOf[ContainerLogsParams]()},
		{CmdDNSLookup, Low, newOf[DNSLookupParams]()},
		{CmdNetworkConfig, Low, none},
		{CmdNetworkStats, Low, none},
		{CmdEndpointCheck, Low, newOf[EndpointCheckParams]()},
		{CmdFollowLogs, Low, newOf[FollowLogsParams]()},
		{CmdStopStream, Low, newOf[StreamParams]()},
		{CmdGetStream, Low, newOf[StreamParams]()},
		{CmdDiscoverServices, Low, none},
		{CmdNetworkDiscover, Low, none},
		{CmdSecurityScan, Low, none},

		{CmdVerifyBackup, Medium, newOf[VerifyBackupParams]()},
		{CmdRestartService, Medium, newOf[ServiceParams]()},
		{CmdSetInterval, Medium, newOf[SetIntervalParams]()},
		{CmdServiceControl, Medium, newOf[ServiceControlParams]()},
		{CmdFileTransfer, Medium, newOf[FileTransferParams]()},
		{CmdFilePush, Medium, newOf[FilePushParams]()},
		{CmdContainerControl, Medium, newOf[ContainerControlParams]()},

		{CmdExec, High, newOf[ExecParams]()},
		{CmdFileWrite, High, newOf[FileWriteParams]()},
		{CmdFileDelete, High, pathSpec(true)},
		{CmdUpdateAgent, High, none},
		{CmdPackageInstall, High, newOf[PackageParams]()},
		{CmdPackageRemove, High, newOf[PackageParams]()},
		{CmdUserManage, High, newOf[UserManageParams]()},
		{CmdUninstallAgent, High, newOf[UninstallParams]()},
		{CmdReboot, High, newOf[RebootParams]()},
		{CmdProcessKill, High, newOf[ProcessKillParams]()},

		{CmdRefreshCapabilities, "", none},
	} {
		registry[s.Name] = s
	}
}

// Lookup returns the spec of a command type (agent-only types included).
func Lookup(cmd string) (Spec, bool) {
	s, ok := registry[cmd]
	return s, ok
}

// Specs lists every command spec (agent-only included), by name.
func Specs() []Spec {
	out := make([]Spec, 0, len(registry))
	for _, s := range registry {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Spec) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Commands lists the server-known (queueable) command types, sorted.
func Commands() []string {
	out := make([]string, 0, len(registry))
	for k, s := range registry {
		if s.Risk != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// RiskOf returns the tier of a command type; ok is false for unknown and
// agent-only types.
func RiskOf(cmd string) (Risk, bool) {
	s, ok := registry[cmd]
	if !ok || s.Risk == "" {
		return "", false
	}
	return s.Risk, true
}

// IsCommand reports whether cmd is a known command type (including the
// agent-only refresh_capabilities).
func IsCommand(cmd string) bool {
	_, ok := registry[cmd]
	return ok
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

// ValidateParams applies the shared parameter rules of cmd (the registry's
// parameter struct and its Validate). The error's text is the message for
// the 400 answer. Unknown types pass (the caller checks the type).
func ValidateParams(cmd string, params map[string]any) error {
	s, ok := Lookup(cmd)
	if !ok {
		return nil
	}
	_, err := s.Decode(params)
	return err
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
