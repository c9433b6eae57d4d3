package wire

import (
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Params is the parameter struct of one command type. Validate applies the
// rules both sides share (spec 20 §7 with the §19 mismatches resolved);
// its error text is the message of the server's 400 answer and of the
// agent's error result.
type Params interface {
	Validate() error
}

// GroupList is user_manage's groups parameter: a list of names or a
// comma-separated string on the wire.
type GroupList []string

// NoParams is the parameter struct of commands that take none.
type NoParams struct{}

// Validate implements Params.
func (*NoParams) Validate() error { return nil }

// ServiceParams: check_service, restart_service.
type ServiceParams struct {
	Service string `json:"service"`
}

// Validate implements Params.
func (p *ServiceParams) Validate() error { return serviceName(p.Service) }

func serviceName(s string) error {
	if s == "" {
		return errf("Parameter 'service' is required")
	}
	if !ServiceName(s) {
		return errf("Invalid service name")
	}
	return nil
}

// ServiceControlParams: service_control.
type ServiceControlParams struct {
	Service string `json:"service"`
	Action  string `json:"action"`
}

// Validate implements Params.
func (p *ServiceControlParams) Validate() error {
	if err := serviceName(p.Service); err != nil {
		return err
	}
	return oneOfValue("action", p.Action, ServiceActions, true)
}

// GetLogsParams: get_logs (unit, or service as the established server names it).
type GetLogsParams struct {
	Unit     string `json:"unit"`
	Service  string `json:"service"`
	Priority string `json:"priority"`
	Lines    *int   `json:"lines"`
}

// UnitName is the unit asked for (unit, else service).
func (p *GetLogsParams) UnitName() string {
	if p.Unit != "" {
		return p.Unit
	}
	return p.Service
}

// Validate implements Params.
func (p *GetLogsParams) Validate() error {
	if u := p.UnitName(); u != "" && !ServiceName(u) {
		return errf("Invalid service name")
	}
	if p.Priority != "" && !Priority(p.Priority) {
		return errf("Invalid priority")
	}
	return intRange("lines", p.Lines, 1, 10000)
}

// FollowLogsParams: follow_logs.
type FollowLogsParams struct {
	Path     string `json:"path"`
	Unit     string `json:"unit"`
	Priority string `json:"priority"`
	Lines    *int   `json:"lines"`
}

// Validate implements Params.
func (p *FollowLogsParams) Validate() error {
	if p.Path != "" {
		if err := CheckReadPath(p.Path); err != nil {
			return err
		}
	}
	if p.Unit != "" && !ServiceName(p.Unit) {
		return errf("Invalid unit name")
	}
	if p.Priority != "" && !Priority(p.Priority) {
		return errf("Invalid priority")
	}
	return intRange("lines", p.Lines, 1, 10000)
}

// StreamParams: stop_stream, get_stream.
type StreamParams struct {
	StreamID string `json:"stream_id"`
}

// Validate implements Params.
func (p *StreamParams) Validate() error {
	if p.StreamID == "" {
		return errf("Parameter 'stream_id' is required")
	}
	if !ValidCommandID(p.StreamID) {
		return errf("Invalid stream_id")
	}
	return nil
}

// NetworkTestParams: network_test.
type NetworkTestParams struct {
	Target string `json:"target"`
	Mode   string `json:"mode"`
}

// Validate implements Params.
func (p *NetworkTestParams) Validate() error {
	if p.Target == "" {
		return errf("Parameter 'target' is required")
	}
	if !NetTarget(p.Target) {
		return errf("Invalid target")
	}
	return oneOfValue("mode", p.Mode, []string{"ping", "trace"}, false)
}

// PathParams: disk_usage (path optional), file_stat, file_delete (required;
// the one that writes).
type PathParams struct {
	Path     string `json:"path"`
	required bool
	write    bool
}

// Validate implements Params.
func (p *PathParams) Validate() error {
	if p.write {
		return writePathValue(p.Path, p.required)
	}
	return pathValue(p.Path, p.required)
}

// FileReadParams: file_read.
type FileReadParams struct {
	Path   string `json:"path"`
	Offset *int   `json:"offset"`
	Lines  *int   `json:"lines"`
}

// Validate implements Params.
func (p *FileReadParams) Validate() error {
	if err := pathValue(p.Path, true); err != nil {
		return err
	}
	if err := intRange("offset", p.Offset, 0, math.MaxInt32); err != nil {
		return err
	}
	return intRange("lines", p.Lines, 1, 100000)
}

// FileChecksumParams: file_checksum.
type FileChecksumParams struct {
	Path      string `json:"path"`
	Algorithm string `json:"algorithm"`
}

// Validate implements Params.
func (p *FileChecksumParams) Validate() error {
	if err := pathValue(p.Path, true); err != nil {
		return err
	}
	return oneOfValue("algorithm", p.Algorithm, []string{"sha256", "md5"}, false)
}

// FileListParams: file_list.
type FileListParams struct {
	Path    string `json:"path"`
	Pattern string `json:"pattern"`
	Max     *int   `json:"max"`
}

// Validate implements Params.
func (p *FileListParams) Validate() error {
	if err := pathValue(p.Path, false); err != nil {
		return err
	}
	if strings.Contains(p.Pattern, "..") || strings.ContainsAny(p.Pattern, "/\x00") {
		return errf("Invalid pattern")
	}
	return intRange("max", p.Max, 1, 500)
}

// FileWriteParams: file_write.
type FileWriteParams struct {
	Path    string  `json:"path"`
	Content *string `json:"content" wire:"raw"`
}

// Validate implements Params.
func (p *FileWriteParams) Validate() error {
	if err := writePathValue(p.Path, true); err != nil {
		return err
	}
	if p.Content == nil {
		return errf("Parameter 'content' is required")
	}
	if len(*p.Content) > MaxWriteContent {
		return errf("Parameter 'content' exceeds 1 MiB")
	}
	return nil
}

// VerifyBackupParams: verify_backup.
type VerifyBackupParams struct {
	Path             string `json:"path"`
	VerificationType string `json:"verification_type"`
}

// Validate implements Params.
func (p *VerifyBackupParams) Validate() error {
	if err := pathValue(p.Path, true); err != nil {
		return err
	}
	return oneOfValue("verification_type", p.VerificationType, VerifyTypes, false)
}

// FileTransferParams: file_transfer (path, or source as the established
// server names it).
type FileTransferParams struct {
	Path   string `json:"path"`
	Source string `json:"source"`
}

// File is the file to send.
func (p *FileTransferParams) File() string {
	if p.Path != "" {
		return p.Path
	}
	return p.Source
}

// Validate implements Params.
func (p *FileTransferParams) Validate() error { return pathValue(p.File(), true) }

// FilePushParams: file_push (path, or destination).
type FilePushParams struct {
	Path        string `json:"path"`
	Destination string `json:"destination"`
	TransferID  string `json:"transfer_id"`
}

// Dest is the destination path.
func (p *FilePushParams) Dest() string {
	if p.Path != "" {
		return p.Path
	}
	return p.Destination
}

// Validate implements Params.
func (p *FilePushParams) Validate() error {
	if err := writePathValue(p.Dest(), true); err != nil {
		return err
	}
	if p.TransferID == "" {
		return errf("Parameter 'transfer_id' is required")
	}
	if !ValidTransferID(p.TransferID) {
		return errf("Invalid transfer_id")
	}
	return nil
}

// ContainerListParams: container_list.
type ContainerListParams struct {
	All bool `json:"all"`
}

// Validate implements Params.
func (*ContainerListParams) Validate() error { return nil }

// ContainerLogsParams: container_logs (tail, or lines).
type ContainerLogsParams struct {
	Container string `json:"container"`
	Lines     *int   `json:"lines"`
	Tail      *int   `json:"tail"`
}

// TailLines is the number of lines asked for (tail, else lines, else def).
func (p *ContainerLogsParams) TailLines(def int) int {
	switch {
	case p.Tail != nil:
		return *p.Tail
	case p.Lines != nil:
		return *p.Lines
	}
	return def
}

// Validate implements Params.
func (p *ContainerLogsParams) Validate() error {
	if err := containerName(p.Container); err != nil {
		return err
	}
	if err := intRange("lines", p.Lines, 1, 10000); err != nil {
		return err
	}
	return intRange("tail", p.Tail, 1, 10000)
}

func containerName(c string) error {
	if c == "" {
		return errf("Parameter 'container' is required")
	}
	if !ContainerName(c) {
		return errf("Invalid container name")
	}
	return nil
}

// ContainerControlParams: container_control.
type ContainerControlParams struct {
	Container string `json:"container"`
	Action    string `json:"action"`
}

// Validate implements Params.
func (p *ContainerControlParams) Validate() error {
	if err := containerName(p.Container); err != nil {
		return err
	}
	return oneOfValue("action", p.Action, ContainerActions, true)
}

var recordTypeRE = regexp.MustCompile(`^[A-Za-z]{1,10}$`)

// DNSLookupParams: dns_lookup.
type DNSLookupParams struct {
	Host string `json:"host"`
	Type string `json:"type"`
}

// Validate implements Params.
func (p *DNSLookupParams) Validate() error {
	if p.Host == "" {
		return errf("Parameter 'host' is required")
	}
	if len(p.Host) > 253 || !NetTarget(p.Host) {
		return errf("Invalid host")
	}
	if p.Type != "" && !recordTypeRE.MatchString(p.Type) {
		return errf("Invalid record type")
	}
	return nil
}

// EndpointCheckParams: endpoint_check.
type EndpointCheckParams struct {
	URL     string `json:"url"`
	Method  string `json:"method"`
	Timeout *int   `json:"timeout"`
}

// Validate implements Params.
func (p *EndpointCheckParams) Validate() error {
	if p.URL == "" {
		return errf("Parameter 'url' is required")
	}
	if len(p.URL) > 2048 || !(strings.HasPrefix(p.URL, "http://") || strings.HasPrefix(p.URL, "https://")) {
		return errf("Parameter 'url' must be an http(s) URL of at most 2048 characters")
	}
	if err := oneOfValue("method", p.Method, []string{"GET", "HEAD"}, false); err != nil {
		return err
	}
	return intRange("timeout", p.Timeout, 1, 30)
}

// SetIntervalParams: set_interval.
type SetIntervalParams struct {
	Interval *int `json:"interval"`
}

// Validate implements Params.
func (p *SetIntervalParams) Validate() error {
	if p.Interval == nil {
		return errf("Parameter 'interval' must be an integer")
	}
	return intRange("interval", p.Interval, 5, 86400)
}

// ExecParams: exec.
type ExecParams struct {
	Command string `json:"command"`
	Timeout *int   `json:"timeout"`
}

// Validate implements Params.
func (p *ExecParams) Validate() error {
	if p.Command == "" {
		return errf("Parameter 'command' is required")
	}
	if len(p.Command) > 4096 {
		return errf("Parameter 'command' exceeds 4096 characters")
	}
	return intRange("timeout", p.Timeout, 0, 3600)
}

// PackageParams: package_install, package_remove.
type PackageParams struct {
	Package string `json:"package"`
}

// Validate implements Params.
func (p *PackageParams) Validate() error {
	if p.Package == "" {
		return errf("Parameter 'package' is required")
	}
	if !PackageName(p.Package) {
		return errf("Invalid package name")
	}
	return nil
}

// UserManageParams: user_manage.
type UserManageParams struct {
	Username string    `json:"username"`
	Action   string    `json:"action"`
	Groups   GroupList `json:"groups"`
}

// Validate implements Params.
func (p *UserManageParams) Validate() error {
	if p.Username == "" {
		return errf("Parameter 'username' is required")
	}
	if len(p.Username) > 32 || !usernameRE.MatchString(p.Username) {
		return errf("Invalid username")
	}
	if err := oneOfValue("action", p.Action, UserActions, true); err != nil {
		return err
	}
	for _, g := range p.Groups {
		if slices.Contains(ForbiddenGroups, g) {
			return errf("Group '%s' is not allowed", g)
		}
		if !usernameRE.MatchString(g) {
			return errf("Invalid group name '%s'", g)
		}
	}
	return nil
}

// UninstallParams: uninstall_agent.
type UninstallParams struct {
	Confirm bool `json:"confirm" wire:"lenient"`
}

// Validate implements Params.
func (p *UninstallParams) Validate() error {
	if !p.Confirm {
		return errf("Parameter 'confirm' must be true to uninstall the agent")
	}
	return nil
}

// RebootParams: reboot.
type RebootParams struct {
	Delay *int `json:"delay"`
}

// Validate implements Params.
func (p *RebootParams) Validate() error { return intRange("delay", p.Delay, 0, 10080) }

var signalRE = regexp.MustCompile(`^(SIG)?[A-Z0-9]{2,8}$`)

// ProcessKillParams: process_kill (pid, else name).
type ProcessKillParams struct {
	PID    *int   `json:"pid" wire:"positive"`
	Name   string `json:"name"`
	Signal string `json:"signal"`
}

// Validate implements Params.
func (p *ProcessKillParams) Validate() error {
	if p.PID != nil {
		if *p.PID <= 0 {
			return errf("Parameter 'pid' must be a positive integer")
		}
	} else {
		if p.Name == "" {
			return errf("Parameter 'pid' is required")
		}
		if !ProcessName(p.Name) {
			return errf("Invalid process name")
		}
	}
	if p.Signal != "" && !signalRE.MatchString(p.Signal) {
		return errf("Invalid signal")
	}
	return nil
}

func intRange(k string, v *int, lo, hi int) error {
	if v != nil && (*v < lo || *v > hi) {
		return errf("Parameter '%s' must be between %d and %d", k, lo, hi)
	}
	return nil
}

func oneOfValue(k, s string, allowed []string, required bool) error {
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

// pathValue applies the read rules to the path of a read-only command.
func pathValue(p string, required bool) error {
	if p == "" && !required {
		return nil
	}
	return CheckReadPath(p)
}

// writePathValue applies the write rules to the path of a writing command.
func writePathValue(p string, required bool) error {
	if p == "" && !required {
		return nil
	}
	return CheckPath(p)
}

// DecodeParams fills the parameter struct dst (a pointer to a struct of
// this file) from a command's JSON parameter object. Each field reads the
// key of its json tag: strings (blank counts as absent; a non-string is
// "must be a string"), *int (integral JSON numbers; "must be an integer"),
// bool ("must be a boolean"), GroupList. Unknown keys are ignored.
func DecodeParams(params map[string]any, dst Params) error {
	v := reflect.ValueOf(dst).Elem()
	for _, f := range fieldsOf(v.Type()) {
		raw, present := params[f.key]
		if !present || raw == nil {
			continue
		}
		fv := v.Field(f.index)
		switch f.kind {
		case kindString:
			s, ok := raw.(string)
			if !ok {
				return errf("Parameter '%s' must be a string", f.key)
			}
			fv.SetString(strings.TrimSpace(s))
		case kindRawString:
			s, ok := raw.(string)
			if !ok {
				return errf("Parameter '%s' is required", f.key)
			}
			fv.Set(reflect.ValueOf(&s))
		case kindInt:
			if !isInt(raw) {
				if f.positive {
					return errf("Parameter '%s' must be a positive integer", f.key)
				}
				return errf("Parameter '%s' must be an integer", f.key)
			}
			n := IntOf(raw, 0)
			fv.Set(reflect.ValueOf(&n))
		case kindBool:
			b, ok := raw.(bool)
			if !ok {
				if f.lenient {
					continue
				}
				return errf("Parameter '%s' must be a boolean", f.key)
			}
			fv.SetBool(b)
		case kindGroups:
			g, err := Groups(raw)
			if err != nil {
				return err
			}
			fv.Set(reflect.ValueOf(GroupList(g)))
		}
	}
	return nil
}

type fieldKind int

const (
	kindString fieldKind = iota
	kindRawString
	kindInt
	kindBool
	kindGroups
)

type paramField struct {
	key      string
	index    int
	kind     fieldKind
	lenient  bool
	positive bool
}

var fieldCache sync.Map // reflect.Type -> []paramField

func fieldsOf(t reflect.Type) []paramField {
	if c, ok := fieldCache.Load(t); ok {
		return c.([]paramField)
	}
	var out []paramField
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if key == "" || !sf.IsExported() {
			continue
		}
		f := paramField{key: key, index: i, lenient: sf.Tag.Get("wire") == "lenient",
			positive: sf.Tag.Get("wire") == "positive"}
		switch {
		case sf.Type == reflect.TypeOf(GroupList(nil)):
			f.kind = kindGroups
		case sf.Type.Kind() == reflect.String:
			f.kind = kindString
		case sf.Type == reflect.TypeOf((*string)(nil)):
			f.kind = kindRawString
		case sf.Type == reflect.TypeOf((*int)(nil)):
			f.kind = kindInt
		case sf.Type.Kind() == reflect.Bool:
			f.kind = kindBool
		default:
			panic("wire: unsupported parameter field " + t.Name() + "." + sf.Name)
		}
		out = append(out, f)
	}
	fieldCache.Store(t, out)
	return out
}
