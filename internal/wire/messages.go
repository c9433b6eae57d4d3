package wire

import (
	"encoding/json"
	"fmt"
)

// WSMessage is one message of the agent WebSocket. Each type below is one
// message kind; their fields are declared in the alphabetical order of
// their JSON keys, so that they encode byte for byte as the established
// map-shaped messages did.
type WSMessage interface {
	MsgType() string
}

// Identify is the agent's first message.
type Identify struct {
	AgentImpl    string `json:"agent_impl,omitempty"`
	AgentVersion string `json:"agent_version"`
	Hostname     string `json:"hostname"`
	Type         string `json:"type"`
}

// CommandMsg is a command sent to the agent.
type CommandMsg struct {
	Cmd    string         `json:"cmd"`
	ID     string         `json:"id"`
	Params map[string]any `json:"params"`
	Type   string         `json:"type"`
}

// Ping is the agent's heartbeat (a ping with an id is a legacy result).
type Ping struct {
	Type string `json:"type"`
}

// Pong answers a Ping.
type Pong struct {
	Type string `json:"type"`
}

// StreamLine is one output line of a running exec.
type StreamLine struct {
	ID   string `json:"id"`
	Line string `json:"line"`
	Type string `json:"type"`
}

// PtyOpen opens a terminal session on the agent.
type PtyOpen struct {
	Cols    int    `json:"cols"`
	Role    string `json:"role,omitempty"`
	Rows    int    `json:"rows"`
	Session string `json:"session"`
	Type    string `json:"type"`
}

// PtyInput is keyboard input for a session.
type PtyInput struct {
	Data    string `json:"data"`
	Session string `json:"session"`
	Type    string `json:"type"`
}

// PtyResize resizes a session.
type PtyResize struct {
	Cols    int    `json:"cols"`
	Rows    int    `json:"rows"`
	Session string `json:"session"`
	Type    string `json:"type"`
}

// PtyClose closes a session.
type PtyClose struct {
	Session string `json:"session"`
	Type    string `json:"type"`
}

// PtyOpened confirms a session.
type PtyOpened struct {
	Session string `json:"session"`
	Type    string `json:"type"`
}

// PtyOutput is terminal output.
type PtyOutput struct {
	Data    string `json:"data"`
	Session string `json:"session"`
	Type    string `json:"type"`
}

// PtyExit reports a session's end.
type PtyExit struct {
	Code    int    `json:"code"`
	Session string `json:"session"`
	Type    string `json:"type"`
}

// PtyError reports a session failure.
type PtyError struct {
	Error   string `json:"error"`
	Session string `json:"session"`
	Type    string `json:"type"`
}

// MsgType implements WSMessage.
func (m *Identify) MsgType() string { return TypeIdentify }

// MsgType implements WSMessage.
func (m *CommandMsg) MsgType() string { return TypeCommand }

// MsgType implements WSMessage.
func (m *Ping) MsgType() string { return TypePing }

// MsgType implements WSMessage.
func (m *Pong) MsgType() string { return TypePong }

// MsgType implements WSMessage.
func (m *StreamLine) MsgType() string { return TypeStream }

// MsgType implements WSMessage.
func (m *PtyOpen) MsgType() string { return TypePtyOpen }

// MsgType implements WSMessage.
func (m *PtyInput) MsgType() string { return TypePtyInput }

// MsgType implements WSMessage.
func (m *PtyResize) MsgType() string { return TypePtyResize }

// MsgType implements WSMessage.
func (m *PtyClose) MsgType() string { return TypePtyClose }

// MsgType implements WSMessage.
func (m *PtyOpened) MsgType() string { return TypePtyOpened }

// MsgType implements WSMessage.
func (m *PtyOutput) MsgType() string { return TypePtyOutput }

// MsgType implements WSMessage.
func (m *PtyExit) MsgType() string { return TypePtyExit }

// MsgType implements WSMessage.
func (m *PtyError) MsgType() string { return TypePtyError }

// MsgType implements WSMessage: a Msg is a command result (or another
// map-shaped message).
func (m Msg) MsgType() string { return m.Type() }

// Encode marshals a message; the Type field is set from the message kind.
func Encode(m WSMessage) []byte {
	switch x := m.(type) {
	case Msg:
		return x.Marshal()
	case *Identify:
		x.Type = TypeIdentify
	case *CommandMsg:
		x.Type = TypeCommand
		if x.Params == nil {
			x.Params = map[string]any{}
		}
	case *Ping:
		x.Type = TypePing
	case *Pong:
		x.Type = TypePong
	case *StreamLine:
		x.Type = TypeStream
	case *PtyOpen:
		x.Type = TypePtyOpen
	case *PtyInput:
		x.Type = TypePtyInput
	case *PtyResize:
		x.Type = TypePtyResize
	case *PtyClose:
		x.Type = TypePtyClose
	case *PtyOpened:
		x.Type = TypePtyOpened
	case *PtyOutput:
		x.Type = TypePtyOutput
	case *PtyExit:
		x.Type = TypePtyExit
	case *PtyError:
		x.Type = TypePtyError
	}
	b, err := json.Marshal(m)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"type": m.MsgType(), "error": "unencodable message"})
	}
	return b
}

// MaxDepth is the deepest JSON nesting accepted from outside (reports and
// WebSocket messages).
const MaxDepth = 32

// CheckDepth reports an error when b nests objects or arrays deeper than
// max (strings are skipped, so brackets inside them do not count).
func CheckDepth(b []byte, max int) error {
	depth, inStr, esc := 0, false, false
	for _, c := range b {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return fmt.Errorf("JSON nested deeper than %d levels", max)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// DecodeMessage parses one agent WebSocket message into its type. Results
// (type "result", or a command name as older agents send it) and messages
// of unknown types come back as a Msg.
func DecodeMessage(b []byte) (WSMessage, error) {
	if err := CheckDepth(b, MaxDepth); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	var m WSMessage
	switch head.Type {
	case TypeIdentify:
		m = &Identify{}
	case TypeCommand:
		m = &CommandMsg{}
	case TypePong:
		m = &Pong{}
	case TypeStream:
		m = &StreamLine{}
	case TypePtyOpen:
		m = &PtyOpen{}
	case TypePtyInput:
		m = &PtyInput{}
	case TypePtyResize:
		m = &PtyResize{}
	case TypePtyClose:
		m = &PtyClose{}
	case TypePtyOpened:
		m = &PtyOpened{}
	case TypePtyOutput:
		m = &PtyOutput{}
	case TypePtyExit:
		m = &PtyExit{}
	case TypePtyError:
		m = &PtyError{}
	default:
		// Results, a ping (with an id it is a legacy ping result) and
		// unknown kinds.
		msg, err := Decode(b)
		if err != nil {
			return nil, err
		}
		if head.Type == TypePing && msg.Str("id") == "" {
			return &Ping{Type: TypePing}, nil
		}
		return msg, nil
	}
	if err := json.Unmarshal(b, m); err != nil {
		var te *json.UnmarshalTypeError
		if !asTypeError(err, &te) {
			return nil, fmt.Errorf("decode message: %w", err)
		}
	}
	return m, nil
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError) //nolint:errorlint // json returns it unwrapped
	if ok {
		*te = t
	}
	return ok
}
