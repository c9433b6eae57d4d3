package wire

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AgentVersion is the version of the noba-agent built from this tree. Release
// builds set it with -ldflags "-X github.com/noba-go/noba/internal/wire.AgentVersion=X.Y.Z".
var AgentVersion = "3.1.0"

// AgentImpl is what a Go agent sends as "agent_impl" in its reports and
// identify message, so the server knows it can run a Go binary update.
const AgentImpl = "go"

// WebSocket message types.
const (
	TypeIdentify  = "identify"
	TypeCommand   = "command"
	TypeResult    = "result"
	TypeStream    = "stream"
	TypePing      = "ping"
	TypePong      = "pong"
	TypePtyOpen   = "pty_open"
	TypePtyInput  = "pty_input"
	TypePtyResize = "pty_resize"
	TypePtyClose  = "pty_close"
	TypePtyOpened = "pty_opened"
	TypePtyOutput = "pty_output"
	TypePtyExit   = "pty_exit"
	TypePtyError  = "pty_error"
)

// WebSocket close codes of the agent endpoint.
const (
	CloseInvalidKey      = 4001
	CloseBadIdentify     = 4002
	CloseHostnameRefused = 4003
)

// Limits shared by both sides.
const (
	// MaxMessage is the read limit of either side of the agent WebSocket.
	MaxMessage = 8 << 20
	// MaxReport caps the body of POST /api/agent/report.
	MaxReport = 8 << 20
	// OutputCap is the cap of each text field of a command result.
	OutputCap = 64 << 10
	// MaxFile is the largest file transferred either way.
	MaxFile = 50 << 20
	// ChunkSize is the size of one upload chunk.
	ChunkSize = 256 << 10
	// MaxWriteContent caps file_write content.
	MaxWriteContent = 1 << 20
)

// Msg is one message of the agent WebSocket or one result/command object:
// a flat JSON object whose "type" names it.
type Msg map[string]any

// Type returns the message's type.
func (m Msg) Type() string { return m.Str("type") }

// Str returns a string field ("" when absent or not a string).
func (m Msg) Str(k string) string { s, _ := m[k].(string); return s }

// Int returns an integer field, def when absent or not integral.
func (m Msg) Int(k string, def int) int { return IntOf(m[k], def) }

// Map returns an object field (nil when absent).
func (m Msg) Map(k string) map[string]any { v, _ := m[k].(map[string]any); return v }

// Marshal encodes m as one JSON object.
func (m Msg) Marshal() []byte {
	b, err := json.Marshal(map[string]any(m))
	if err != nil {
		b, _ = json.Marshal(map[string]any{"type": m.Type(), "error": "unencodable message"})
	}
	return b
}

// Decode parses one JSON object message.
func Decode(b []byte) (Msg, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("decode message: not an object")
	}
	return Msg(m), nil
}

// Command builds the WebSocket delivery of a command.
func Command(id, cmd string, params map[string]any) *CommandMsg {
	if params == nil {
		params = map[string]any{}
	}
	return &CommandMsg{Type: TypeCommand, ID: id, Cmd: cmd, Params: params}
}

// NewIdentify builds the agent's first WebSocket message.
func NewIdentify(hostname, version string) *Identify {
	return &Identify{Type: TypeIdentify, Hostname: hostname, AgentVersion: version, AgentImpl: AgentImpl}
}

// Result builds a command result: the handler's fields with the envelope
// keys set last, so that a handler field never overrides id, type or cmd.
// viaWS selects the WebSocket shape (type "result" + cmd) or the HTTP shape
// (type = command).
func Result(id, cmd string, fields map[string]any, viaWS bool) Msg {
	m := Msg{}
	for k, v := range fields {
		m[k] = v
	}
	if _, ok := m["status"]; !ok {
		m["status"] = "ok"
	}
	m["id"] = id
	m["cmd"] = cmd
	if viaWS {
		m["type"] = TypeResult
	} else {
		m["type"] = cmd
	}
	return m
}

// NormalizeResult makes a received result carry id, cmd and status whatever
// shape it arrived in: WebSocket (type "result" + cmd), HTTP (type = the
// command) or legacy WebSocket (type = the command). It returns false when
// the object is not a result.
func NormalizeResult(m Msg) (Msg, bool) {
	if m == nil {
		return nil, false
	}
	t := m.Type()
	cmd := m.Str("cmd")
	switch {
	case t == TypeResult:
	case t != "" && IsCommand(t):
		if cmd == "" || !IsCommand(cmd) {
			cmd = t
		}
	case cmd != "":
	default:
		return nil, false
	}
	if m.Str("id") == "" {
		return nil, false
	}
	out := Msg{}
	for k, v := range m {
		out[k] = v
	}
	out["cmd"] = cmd
	st := m.Str("status")
	if st == "" {
		st = "ok"
		if m.Str("error") != "" {
			st = "error"
		}
	}
	out["status"] = st
	return out, true
}

// IntOf converts a JSON value (float64, json.Number, int, integral string)
// to an int, def when it is not an integer.
func IntOf(v any, def int) int {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) && math.Abs(x) < 1<<53 {
			return int(x)
		}
	case int:
		return x
	case int64:
		return int(x)
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return int(n)
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			return n
		}
	}
	return def
}

// isInt reports whether v is a JSON integer (not a bool, not a fraction).
func isInt(v any) bool {
	switch x := v.(type) {
	case float64:
		return x == math.Trunc(x) && !math.IsInf(x, 0)
	case int, int64:
		return true
	case json.Number:
		_, err := x.Int64()
		return err == nil
	}
	return false
}

// FloatOf converts a JSON number to float64 (def otherwise).
func FloatOf(v any, def float64) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
	}
	return def
}

var (
	hostnameRE   = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,252}$`)
	transferIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
	commandIDRE  = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,80}$`)
)

// ValidHostname reports whether s is an agent hostname (1-253 chars, starting
// alphanumeric, then alphanumerics, dots, underscores and dashes).
func ValidHostname(s string) bool { return hostnameRE.MatchString(s) }

// ValidTransferID reports whether s is a transfer id (32 lowercase hex chars).
func ValidTransferID(s string) bool { return transferIDRE.MatchString(s) }

// ValidCommandID reports whether s may be used as a command or stream id.
func ValidCommandID(s string) bool { return commandIDRE.MatchString(s) }

// NewID returns n random bytes as lowercase hex (command ids use 8, transfer ids 16).
func NewID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// Truncate cuts s to at most n bytes on a UTF-8 boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ParseVersion parses "v1.2.3" / "1.2" into its numeric parts; ok is false
// when the major part is not a number.
func ParseVersion(v string) (parts [3]int, ok bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if v == "" {
		return parts, false
	}
	for i, p := range strings.SplitN(v, ".", 3) {
		j := 0
		for j < len(p) && p[j] >= '0' && p[j] <= '9' {
			j++
		}
		if j == 0 {
			if i == 0 {
				return parts, false
			}
			break
		}
		parts[i], _ = strconv.Atoi(p[:j])
	}
	return parts, true
}

// CompareVersions returns -1, 0 or 1 as a is older than, equal to or newer
// than b; unparseable versions sort before any parseable one.
func CompareVersions(a, b string) int {
	pa, oka := ParseVersion(a)
	pb, okb := ParseVersion(b)
	switch {
	case !oka && !okb:
		return 0
	case !oka:
		return -1
	case !okb:
		return 1
	}
	for i := range pa {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
