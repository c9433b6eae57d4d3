package gameserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/gameserver"
)

func putVarint(b *bytes.Buffer, v int32) {
	u := uint32(v)
	for {
		if u&^0x7F == 0 {
			b.WriteByte(byte(u))
			return
		}
		b.WriteByte(byte(u&0x7F | 0x80))
		u >>= 7
	}
}

func readVarint(r io.ByteReader) int32 {
	var u uint32
	for i := 0; i < 5; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return -999
		}
		u |= uint32(b&0x7F) << (7 * i)
		if b&0x80 == 0 {
			break
		}
	}
	return int32(u)
}

// minecraftServer speaks the Server List Ping: it checks the handshake
// (next state 1) and the status request, and answers status JSON.
func minecraftServer(t *testing.T, status string) (host string, port int, got chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got = make(chan string, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				rd := bufio.NewReader(c)
				n := readVarint(rd)
				pkt := make([]byte, n)
				if _, err := io.ReadFull(rd, pkt); err != nil {
					got <- "short handshake"
					return
				}
				pr := bytes.NewReader(pkt)
				id := readVarint(pr)
				_ = readVarint(pr) // protocol version
				l := readVarint(pr)
				addr := make([]byte, l)
				_, _ = io.ReadFull(pr, addr)
				var port uint16
				_ = binary.Read(pr, binary.BigEndian, &port)
				next := readVarint(pr)
				if id != 0 || next != 1 {
					got <- "bad handshake"
					return
				}
				// status request: length 1, id 0
				if readVarint(rd) != 1 || readVarint(rd) != 0 {
					got <- "bad status request"
					return
				}
				got <- string(addr) + ":" + strconv.Itoa(int(port))
				var body, out bytes.Buffer
				putVarint(&body, 0)
				putVarint(&body, int32(len(status)))
				body.WriteString(status)
				putVarint(&out, int32(body.Len()))
				out.Write(body.Bytes())
				_, _ = c.Write(out.Bytes())
			}(c)
		}
	}()
	a := l.Addr().(*net.TCPAddr)
	return "127.0.0.1", a.Port, got
}

func TestMinecraftServerListPing(t *testing.T) {
	status := `{"version":{"name":"1.20.4","protocol":765},"players":{"max":20,"online":3,"sample":[]},` +
		`"description":{"text":"A ","extra":[{"text":"NOBA","bold":true},{"text":" server"}]}}`
	host, port, got := minecraftServer(t, status)
	r := gameserver.Probe(context.Background(), gameserver.Server{Name: "mc", Host: host, Port: port, Protocol: "minecraft"})
	if r.Status != "online" || *r.Players != 3 || *r.MaxPlayers != 20 || r.Version != "1.20.4" || r.MOTD != "A NOBA server" {
		b, _ := json.Marshal(r)
		t.Fatalf("got %s", b)
	}
	if r.MS == nil {
		t.Error("ms missing")
	}
	if g := <-got; g != host+":"+strconv.Itoa(port) {
		t.Errorf("handshake carried %q, want the server address and port", g)
	}

	// a plain-string description (older servers)
	host, port, _ = minecraftServer(t, `{"version":{"name":"1.8"},"players":{"max":5,"online":0},"description":"hello"}`)
	r = gameserver.Probe(context.Background(), gameserver.Server{Host: host, Port: port, Protocol: "minecraft"})
	if r.Status != "online" || r.MOTD != "hello" || *r.MaxPlayers != 5 {
		t.Errorf("got %+v", r)
	}
}

func TestMinecraftGarbageIsOffline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()
	r := gameserver.Probe(context.Background(), gameserver.Server{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Protocol: "minecraft"})
	if r.Status != "offline" || r.Error == "" {
		t.Errorf("got %+v, want offline with an error", r)
	}
}

// a2sServer answers A2S_INFO over UDP; with challenge set it first answers
// S2C_CHALLENGE and only serves requests carrying it.
func a2sServer(t *testing.T, challenge bool) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	req := append([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x54}, []byte("Source Engine Query\x00")...)
	chal := []byte{0x11, 0x22, 0x33, 0x44}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			p := buf[:n]
			if !bytes.HasPrefix(p, req) {
				continue
			}
			if challenge && !bytes.Equal(p[len(req):], chal) {
				_, _ = pc.WriteTo(append([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x41}, chal...), addr)
				continue
			}
			var b bytes.Buffer
			b.Write([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x49, 17})
			b.WriteString("NOBA TF2\x00ctf_2fort\x00tf\x00Team Fortress\x00")
			_ = binary.Write(&b, binary.LittleEndian, uint16(440)) // app id: must be skipped
			b.Write([]byte{12, 24, 2, 'd', 'l', 0, 1})
			_, _ = pc.WriteTo(b.Bytes(), addr)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func TestSourceA2SInfo(t *testing.T) {
	for _, challenge := range []bool{false, true} {
		port := a2sServer(t, challenge)
		r := gameserver.Probe(context.Background(), gameserver.Server{Name: "tf", Host: "127.0.0.1", Port: port, Protocol: "source"})
		if r.Status != "online" || *r.Map != "ctf_2fort" || *r.Players != 12 || *r.MaxPlayers != 24 || r.Game != "Team Fortress" {
			b, _ := json.Marshal(r)
			t.Errorf("challenge=%v: got %s", challenge, b)
		}
	}
}

func TestSourceSilentServerTimesOut(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := gameserver.Probe(ctx, gameserver.Server{Host: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port, Protocol: "source"})
	if r.Status != "offline" || r.Error != "timed out" {
		t.Errorf("got %+v, want offline timed out", r)
	}
	b, _ := json.Marshal(r)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if _, ok := m["players"]; ok {
		t.Errorf("offline source result carries players: %s", b)
	}
}

func TestTCPProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	r := gameserver.Probe(context.Background(), gameserver.Server{Host: "127.0.0.1", Port: port, Protocol: "terraria"})
	if r.Status != "online" || r.MS == nil {
		t.Errorf("got %+v, want online", r)
	}
	l.Close()
	r = gameserver.Probe(context.Background(), gameserver.Server{Host: "127.0.0.1", Port: port})
	if r.Status != "offline" || r.MS == nil || *r.MS != 0 {
		t.Errorf("got %+v, want offline with ms 0", r)
	}
}
