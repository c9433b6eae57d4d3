package alerts_test

import (
	"github.com/noba-go/noba/internal/alerts"
	"github.com/noba-go/noba/internal/wire"
)

// observeBenchAgent feeds one realistic agent report to the room.
func observeBenchAgent(r *alerts.Room, host string) {
	r.ObserveAgent(&wire.Metrics{Hostname: host, Platform: "Linux", Arch: "x86_64", AgentVersion: "3.1.0",
		CPUPercent: 12.4, CPUCount: 4, Load1: 0.52, Load5: 0.61, Load15: 0.58, MemTotal: 8254390272,
		MemUsed: 3012345856, MemPercent: 36.5, UptimeS: 265443, NetBytesSent: 123456789, NetBytesRecv: 987654321,
		Disks: []wire.Disk{{Mount: "/", Total: 53687091200, Used: 33285996544, Percent: 62, FSType: "ext4"},
			{Mount: "/srv", Total: 1e12, Used: 4e11, Percent: 40, FSType: "xfs"}},
		Temperatures: map[string]float64{"cpu": 48},
		TopProcesses: []wire.Process{{PID: 812, Name: "postgres", CPU: 3.1, Mem: 4.2}, {PID: 1, Name: "systemd", CPU: 0.1, Mem: 0.2}}})
}
