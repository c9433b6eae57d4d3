// Package integrations is the integrations room: it turns the configured
// third-party services (Pi-hole, Plex, TrueNAS, Uptime Kuma, AdGuard Home,
// Jellyfin, Home Assistant, Speedtest Tracker, Proxmox VE, Tautulli,
// Overseerr, Radarr, Sonarr, Lidarr, Readarr, Prowlarr, qBittorrent,
// Traefik, Nginx Proxy Manager, Kubernetes, Gitea, GitLab, Paperless-ngx,
// UniFi Network, Nextcloud, Scrutiny, Frigate, authentik, n8n, Bazarr,
// Shelly energy meters, OpenMediaVault, XCP-ng, Homebridge, Zigbee2MQTT,
// ESPHome, UniFi Protect, PiKVM, Vaultwarden, GitHub, Cloudflare,
// OpenWeatherMap) and the server-computed blocks (certificate and domain
// expiry, device presence, WireGuard and Tailscale) into the
// integration blocks of the live stats payload (spec 10 §4.2, §4.4). Each
// service is a small client in its own subpackage; provider holds what
// they share. With an instance source wired, the enabled integration
// instances of router 10 are polled the same way under "instances".
//
// The room also serves router 9 (routes.go): Frigate camera snapshots,
// Tailscale status, Scrutiny disk intelligence, service blast radius, Home
// Assistant entities/services/calls, the Pi-hole v5/v6 blocking toggle, game
// servers over their own protocols (Minecraft Server List Ping, Source
// A2S_INFO, TCP), Wake-on-LAN to the configured broadcast address, rclone
// cloud remotes through the rclone CLI, and bounded InfluxDB queries.
package integrations
