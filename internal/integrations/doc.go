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
// they share. Router 9's routes will be served from here too.
package integrations
