// Package infra serves router 7 (infrastructure): systemd service control
// through systemctl (via the runcmd seam), the host's network connections,
// listening ports and interfaces, the service map, Kubernetes and Proxmox VE
// over their REST APIs, the server terminal WebSocket (admin only, off
// unless the terminalEnabled setting is on) and the network devices agents
// discover. The disk prediction route of this router is served by stats.
package infra
