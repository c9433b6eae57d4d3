// Package gameserver probes game servers over their own protocols: the
// Minecraft Server List Ping (Java edition, 1.7+), the Source engine A2S_INFO
// query (with its challenge round), and a plain TCP connect for any other
// game. Every probe is bounded by its context and a per-probe timeout.
package gameserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Timeout bounds one probe (spec 30 §2.7: 3 s).
const Timeout = 3 * time.Second

// Server is one configured game server (setting gameServers).
type Server struct {
	Name     string `json:"name"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
}

// Result is the answer of one probe. MS is set by the TCP and Minecraft
// probes; Map, Players and MaxPlayers by the Source and Minecraft probes.
type Result struct {
	Name       string  `json:"name"`
	Host       string  `json:"host"`
	Port       int     `json:"port"`
	Protocol   string  `json:"protocol"`
	Status     string  `json:"status"`
	MS         *int64  `json:"ms,omitempty"`
	Map        *string `json:"map,omitempty"`
	Game       string  `json:"game,omitempty"`
	Players    *int    `json:"players,omitempty"`
	MaxPlayers *int    `json:"max_players,omitempty"`
	Version    string  `json:"version,omitempty"`
	MOTD       string  `json:"motd,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// Probe asks s over its protocol ("source", "minecraft", anything else: TCP).
func Probe(ctx context.Context, s Server) Result {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	r := Result{Name: s.Name, Host: s.Host, Port: s.Port, Protocol: s.Protocol, Status: "offline"}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	start := time.Now()
	switch strings.ToLower(s.Protocol) {
	case "source", "a2s":
		info, err := QuerySource(ctx, addr)
		if err != nil {
			r.Error = errText(err)
			return r
		}
		r.Status, r.Map, r.Game = "online", &info.Map, info.Game
		r.Players, r.MaxPlayers = &info.Players, &info.MaxPlayers
	case "minecraft", "mc":
		st, err := PingMinecraft(ctx, addr, s.Host, s.Port)
		ms := int64(0)
		r.MS = &ms
		if err != nil {
			r.Error = errText(err)
			return r
		}
		ms = time.Since(start).Milliseconds()
		r.Status, r.Players, r.MaxPlayers = "online", &st.Players, &st.MaxPlayers
		r.Version, r.MOTD = st.Version, st.MOTD
	default:
		var d net.Dialer
		ms := int64(0)
		r.MS = &ms
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			r.Error = errText(err)
			return r
		}
		ms = time.Since(start).Milliseconds()
		_ = c.Close()
		r.Status = "online"
	}
	return r
}

func errText(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return "connection refused"
	}
	return err.Error()
}

// SourceInfo is the part of an A2S_INFO answer NOBA shows.
type SourceInfo struct {
	Name, Map, Folder, Game string
	AppID                   uint16
	Players, MaxPlayers     int
	Bots                    int
}

// a2sRequest is the A2S_INFO request: FF FF FF FF 'T' "Source Engine Query\0".
var a2sRequest = append([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x54}, []byte("Source Engine Query\x00")...)

// QuerySource sends A2S_INFO to addr over UDP, answering an S2C_CHALLENGE
// ('A') by resending the request with the challenge appended.
func QuerySource(ctx context.Context, addr string) (SourceInfo, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return SourceInfo{}, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	req := a2sRequest
	buf := make([]byte, 1400)
	for attempt := 0; attempt < 3; attempt++ {
		if _, err := c.Write(req); err != nil {
			return SourceInfo{}, err
		}
		n, err := c.Read(buf)
		if err != nil {
			return SourceInfo{}, err
		}
		pkt := buf[:n]
		if len(pkt) < 5 || !bytes.Equal(pkt[:4], []byte{0xFF, 0xFF, 0xFF, 0xFF}) {
			return SourceInfo{}, errors.New("not an A2S answer")
		}
		switch pkt[4] {
		case 0x41: // S2C_CHALLENGE
			if len(pkt) < 9 {
				return SourceInfo{}, errors.New("short A2S challenge")
			}
			req = append(append([]byte{}, a2sRequest...), pkt[5:9]...)
			continue
		case 0x49: // A2S_INFO answer
			return parseSourceInfo(pkt[5:])
		default:
			return SourceInfo{}, fmt.Errorf("unexpected A2S answer type 0x%02x", pkt[4])
		}
	}
	return SourceInfo{}, errors.New("A2S challenge not accepted")
}

// parseSourceInfo parses the body of an A2S_INFO answer after its type byte:
// protocol, name, map, folder, game, app id (int16 LE), players, max players, bots.
func parseSourceInfo(b []byte) (SourceInfo, error) {
	var info SourceInfo
	if len(b) < 1 {
		return info, errors.New("short A2S answer")
	}
	b = b[1:] // protocol
	var fields [4]string
	for i := range fields {
		end := bytes.IndexByte(b, 0)
		if end < 0 {
			return info, errors.New("truncated A2S answer")
		}
		fields[i], b = string(b[:end]), b[end+1:]
	}
	if len(b) < 5 {
		return info, errors.New("truncated A2S answer")
	}
	info.Name, info.Map, info.Folder, info.Game = fields[0], fields[1], fields[2], fields[3]
	info.AppID = binary.LittleEndian.Uint16(b[:2])
	info.Players, info.MaxPlayers, info.Bots = int(b[2]), int(b[3]), int(b[4])
	return info, nil
}

// MinecraftStatus is the part of a Server List Ping answer NOBA shows.
type MinecraftStatus struct {
	Version             string
	Protocol            int
	Players, MaxPlayers int
	MOTD                string
}

// maxStatus bounds the status JSON (a protocol string is at most 32767 UTF-16 units).
const maxStatus = 128 << 10

// PingMinecraft runs the Server List Ping over TCP: Handshake (next state
// 1, status) then Status Request, and decodes the Status Response JSON.
func PingMinecraft(ctx context.Context, addr, host string, port int) (MinecraftStatus, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return MinecraftStatus{}, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	var hs bytes.Buffer
	hs.Write(varint(0x00))             // packet id: handshake
	hs.Write(varint(-1))               // protocol version: -1 for a status ping
	hs.Write(varint(int32(len(host)))) // server address
	hs.WriteString(host)
	_ = binary.Write(&hs, binary.BigEndian, uint16(port))
	hs.Write(varint(1)) // next state: status
	var out bytes.Buffer
	out.Write(varint(int32(hs.Len())))
	out.Write(hs.Bytes())
	out.Write([]byte{0x01, 0x00}) // status request: length 1, id 0
	if _, err := c.Write(out.Bytes()); err != nil {
		return MinecraftStatus{}, err
	}
	rd := bufio.NewReader(c)
	length, err := readVarint(rd)
	if err != nil {
		return MinecraftStatus{}, fmt.Errorf("read status length: %w", err)
	}
	if length <= 0 || length > maxStatus {
		return MinecraftStatus{}, fmt.Errorf("status packet of %d bytes", length)
	}
	pkt := make([]byte, length)
	if _, err := io.ReadFull(rd, pkt); err != nil {
		return MinecraftStatus{}, fmt.Errorf("read status: %w", err)
	}
	pr := bytes.NewReader(pkt)
	id, err := readVarint(pr)
	if err != nil || id != 0 {
		return MinecraftStatus{}, errors.New("not a status response")
	}
	n, err := readVarint(pr)
	if err != nil || n < 0 || int(n) > pr.Len() {
		return MinecraftStatus{}, errors.New("bad status string")
	}
	js := make([]byte, n)
	_, _ = io.ReadFull(pr, js)
	var st struct {
		Version struct {
			Name     string `json:"name"`
			Protocol int    `json:"protocol"`
		} `json:"version"`
		Players struct {
			Max    int `json:"max"`
			Online int `json:"online"`
		} `json:"players"`
		Description json.RawMessage `json:"description"`
	}
	if err := json.Unmarshal(js, &st); err != nil {
		return MinecraftStatus{}, fmt.Errorf("decode status: %w", err)
	}
	return MinecraftStatus{Version: st.Version.Name, Protocol: st.Version.Protocol, Players: st.Players.Online,
		MaxPlayers: st.Players.Max, MOTD: chatText(st.Description)}, nil
}

// chatText flattens a chat component (a string or {"text","extra":[...]}) to plain text.
func chatText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var c struct {
		Text  string            `json:"text"`
		Extra []json.RawMessage `json:"extra"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(c.Text)
	for _, e := range c.Extra {
		b.WriteString(chatText(e))
	}
	return b.String()
}

// varint encodes v as a protocol VarInt (7 bits a byte, two's complement for negatives).
func varint(v int32) []byte {
	u := uint32(v)
	var out []byte
	for {
		if u&^0x7F == 0 {
			return append(out, byte(u))
		}
		out = append(out, byte(u&0x7F|0x80))
		u >>= 7
	}
}

func readVarint(r io.ByteReader) (int32, error) {
	var u uint32
	for i := 0; i < 5; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		u |= uint32(b&0x7F) << (7 * i)
		if b&0x80 == 0 {
			return int32(u), nil
		}
	}
	return 0, errors.New("varint too long")
}
