package wol_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/wol"
)

func TestParseMAC(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"aa:bb:cc:dd:ee:ff", true}, {"AA-BB-CC-DD-EE-FF", true}, {"aabb.ccdd.eeff", true}, {" aabbccddeeff ", true},
		{"aa:bb:cc:dd:ee", false}, {"gg:bb:cc:dd:ee:ff", false}, {"", false}, {"aa:bb:cc:dd:ee:ff:00", false},
	} {
		mac, err := wol.ParseMAC(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseMAC(%q) err=%v, want ok=%v", tc.in, err, tc.ok)
		}
		if tc.ok && !bytes.Equal(mac, []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}) {
			t.Errorf("ParseMAC(%q) = %x", tc.in, mac)
		}
	}
}

func TestBroadcast(t *testing.T) {
	for in, want := range map[string]string{"": "255.255.255.255:9", "192.168.1.255": "192.168.1.255:9",
		"10.0.0.255:7": "10.0.0.255:7", "host.example:9": "", "::1": "", "1.2.3.4:0": ""} {
		got, err := wol.Broadcast(in)
		if want == "" {
			if err == nil {
				t.Errorf("Broadcast(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("Broadcast(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestSendMagicPacket receives the packet on a loopback UDP listener.
func TestSendMagicPacket(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	mac, _ := wol.ParseMAC("01:23:45:67:89:ab")
	if err := wol.Send(context.Background(), mac, pc.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	_ = pc.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 200)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	p := buf[:n]
	if n != 102 || !bytes.Equal(p[:6], bytes.Repeat([]byte{0xFF}, 6)) {
		t.Fatalf("packet % x: want 102 bytes starting with 6x FF", p)
	}
	for i := 0; i < 16; i++ {
		if !bytes.Equal(p[6+6*i:12+6*i], mac) {
			t.Fatalf("repetition %d is % x, want % x", i, p[6+6*i:12+6*i], mac)
		}
	}
}
