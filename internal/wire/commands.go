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

func pathSpec(required, write bool) func() Params {
	return func() Params { return &PathParams{required: required, write: write} }
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
		{CmdDiskUsage, Low, pathSpec(false, false)},
		{CmdListServices, Low, none},
		{CmdListUsers, Low, none},
		{CmdFileRead, Low, newOf[FileReadParams]()},
		{CmdFileList, Low, newOf[FileListParams]()},
		{CmdFileChecksum, Low, newOf[FileChecksumParams]()},
		{CmdFileStat, Low, pathSpec(true, false)},
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
		{CmdFileDelete, High, pathSpec(true, true)},
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

// The path rules (spec 20 §7.5), as a user of a homelab dashboard expects
// them. The spec's server list refused every command the files an admin
// watches most (sshd_config, /etc/hosts, /etc/passwd), so a drift baseline
// or a checksum of them could not even be asked for; reading is now told
// apart from writing:
//
//   - Every command: a path is not empty, has no NUL and no ".." segment,
//     and never reaches the kernel's pseudo-filesystems (/proc, /sys, /dev:
//     process environments, kernel memory, devices) or /run/secrets.
//   - Read-only commands (file_read, file_list, file_stat, file_checksum,
//     disk_usage, verify_backup, file_transfer, follow_logs, drift
//     baselines; CheckReadPath) read ordinary configuration, world-readable
//     or not (/etc/hosts, /etc/ssh/sshd_config, /etc/passwd, /etc/sudoers,
//     authorized_keys, grub.cfg), but never a credential: the password hash
//     databases (/etc/shadow, /etc/gshadow, their "-" backups,
//     /etc/security/opasswd), private keys (SSH id_* but not id_*.pub, SSH
//     host keys /etc/ssh/ssh_host_*_key, the TLS private/ directories, any
//     *.key file such as NOBA's own .master.key) and GnuPG homes.
//   - Writing commands (file_write, file_delete, file_push; CheckPath) are
//     refused all of that and, on top, the spec's system files whose damage
//     locks an admin out (/etc/passwd, /etc/sudoers, /etc/hosts,
//     sshd_config, root's authorized_keys, grub.cfg). The agent confines
//     writes further to its own directories and applies the read rules
//     again after resolving symlinks.
var (
	// deniedExact are refused to every command.
	deniedExact = []string{"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/security/opasswd",
		"/proc", "/sys", "/dev"}
	// deniedPrefixes are refused to every command.
	deniedPrefixes = []string{"/proc/", "/sys/", "/dev/", "/run/secrets/", "/etc/ssl/private/", "/etc/pki/tls/private/"}
	// writeDeniedExact are refused to writing commands only.
	writeDeniedExact = []string{"/etc/passwd", "/etc/sudoers", "/etc/hosts", "/etc/ssh/sshd_config",
		"/root/.ssh/authorized_keys", "/boot/grub/grub.cfg"}
)

// CheckPath applies the path rules of writing commands (spec 20 §7.5; see
// above) to a command's path parameter and returns the message of the
// first rule it breaks.
func CheckPath(p string) error {
	if err := CheckReadPath(p); err != nil {
		return err
	}
	if slices.Contains(writeDeniedExact, path.Clean(p)) || slices.Contains(writeDeniedExact, p) {
		return errf("Path '%s' is on the denylist", p)
	}
	return nil
}

// CheckReadPath applies the path rules of read-only commands (see above):
// ordinary configuration files pass, credentials and traversal do not.
func CheckReadPath(p string) error {
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
	if SecretFile(clean) {
		return errf("Path '%s' holds secrets and is never read", p)
	}
	return nil
}

// SecretFile reports whether the clean path p names a private key or a
// secret store by its name (the agent asks it again of resolved paths).
func SecretFile(p string) bool {
	base := path.Base(p)
	switch {
	case strings.Contains(p, "/.ssh/id_") && !strings.HasSuffix(base, ".pub"):
		return true
	case strings.HasPrefix(p, "/etc/ssh/ssh_host_") && strings.HasSuffix(base, "_key"):
		return true
	case strings.HasSuffix(base, ".key"), strings.Contains(p, "/private/key"):
		return true
	case strings.Contains(p+"/", "/.gnupg/"):
		return true
	}
	return false
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
