package tailscale_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/noba-go/noba/internal/integrations/tailscale"
)

func TestParseStatus(t *testing.T) {
	data, err := os.ReadFile("testdata/status.json")
	if err != nil {
		t.Fatal(err)
	}
	st, err := tailscale.ParseStatus(data)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st)
	want := `{"self":{"hostname":"noba-host","ip":"100.101.102.103","os":"linux","relay":"fra"},"peers":[` +
		`{"hostname":"exit","ip":"100.64.0.3","os":"linux","online":false,"active":false,"direct":false,"curAddr":"","rxBytes":0,"txBytes":0,"lastSeen":"2024-06-01T08:00:00Z","exitNode":true,"subnets":[],"tags":[]},` +
		`{"hostname":"phone","ip":"100.64.0.2","os":"iOS","online":true,"active":false,"direct":false,"curAddr":"","rxBytes":0,"txBytes":0,"lastSeen":"2024-06-10T11:58:00Z","exitNode":false,"subnets":[],"tags":[]}],` +
		`"onlineCount":1,"totalCount":2,"tailnet":"tail1234.ts.net"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestParseStatusPeerDetails(t *testing.T) {
	st, err := tailscale.ParseStatus([]byte(`{"Self":{"HostName":"me","TailscaleIPs":["100.1.1.1"]},"Peer":{"k":{"HostName":"localhost",
		"DNSName":"router.tn.ts.net.","CurAddr":"203.0.113.5:41641","AllowedIPs":["100.2.2.2/32","192.168.1.0/24","fd7a::2/128"],
		"Tags":["tag:infra"],"RxBytes":10,"TxBytes":20,"Online":true,"Active":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	p := st.Peers[0]
	if p.Hostname != "router" || !p.Direct || len(p.Subnets) != 1 || p.Subnets[0] != "192.168.1.0/24" || p.Tags[0] != "tag:infra" || p.RxBytes != 10 {
		t.Errorf("peer: %+v", p)
	}
	if _, err := tailscale.ParseStatus([]byte(`{"BackendState":"Stopped"}`)); !errors.Is(err, tailscale.ErrUnavailable) {
		t.Errorf("no Self: %v", err)
	}
}
