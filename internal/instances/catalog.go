package instances

// Category is one category of the healing integration registry: its
// abstract heal operations and the platforms that have a handler
// descriptor (or an unsupported cell) for them.
type Category struct {
	Name       string
	Operations []string
	Platforms  []string
}

// Catalog is the registry, categories in registration order (spec 30 §3.3).
var Catalog = []Category{
	{Name: "nas", Operations: []string{"nas_pool_repair", "nas_scrub", "nas_replication_sync", "nas_snapshot_create", "nas_snapshot_rollback", "nas_share_restart", "nas_cache_clear", "nas_quota_enforce"},
		Platforms: []string{"omv", "qnap", "synology", "truenas", "unraid"}},
	{Name: "hypervisor", Operations: []string{"vm_restart", "vm_migrate", "vm_snapshot", "vm_snapshot_rollback", "vm_resource_adjust", "vm_console_reset", "hypervisor_maintenance_mode"},
		Platforms: []string{"hyperv", "proxmox", "vmware", "xcpng"}},
	{Name: "container_runtime", Operations: []string{"container_restart", "container_recreate", "container_scale", "container_image_pull", "container_rollback_image", "container_network_reconnect"},
		Platforms: []string{"docker", "kubernetes", "lxd", "podman"}},
	{Name: "reverse_proxy", Operations: []string{"proxy_reload_config", "proxy_upstream_health_reset", "proxy_cert_reload", "proxy_backend_drain", "proxy_cache_purge"},
		Platforms: []string{"caddy", "haproxy", "nginx", "npm", "traefik"}},
	{Name: "dns", Operations: []string{"dns_cache_flush", "dns_blocklist_update", "dns_upstream_failover", "dns_zone_reload", "dns_forwarder_switch", "dns_service_restart"},
		Platforms: []string{"adguard", "bind9", "coredns", "pihole", "technitium", "unbound"}},
	{Name: "media", Operations: []string{"media_library_scan", "media_db_optimize", "media_cache_clear", "media_transcode_kill", "media_session_terminate", "media_metadata_refresh"},
		Platforms: []string{"emby", "jellyfin", "navidrome", "plex"}},
	{Name: "media_management", Operations: []string{"servarr_queue_clear", "servarr_failed_retry", "servarr_indexer_reset", "servarr_import_scan", "servarr_cache_clear", "servarr_task_restart"},
		Platforms: []string{"lidarr", "prowlarr", "radarr", "readarr", "sonarr"}},
	{Name: "download_client", Operations: []string{"download_resume_all", "download_clear_stuck", "download_recheck_torrents", "download_force_reannounce", "download_connection_reset"},
		Platforms: []string{"deluge", "qbittorrent", "sabnzbd", "transmission"}},
	{Name: "vpn", Operations: []string{"vpn_reconnect", "vpn_key_rotate", "vpn_route_refresh", "vpn_peer_reset", "vpn_tunnel_restart"},
		Platforms: []string{"cloudflared", "openvpn", "tailscale", "wireguard", "zerotier"}},
	{Name: "monitoring", Operations: []string{"monitor_force_check", "monitor_clear_downtime", "monitor_restart_agent", "monitor_acknowledge_alert", "monitor_silence_rule"},
		Platforms: []string{"grafana", "kuma", "prometheus", "zabbix"}},
	{Name: "smart_home", Operations: []string{"home_reload_config", "home_restart_integration", "home_automation_toggle", "home_device_rediscover", "home_zigbee_rejoin"},
		Platforms: []string{"homeassistant", "hubitat", "openhab"}},
	{Name: "identity_auth", Operations: []string{"auth_session_flush", "auth_cache_clear", "auth_provider_reconnect", "auth_ldap_sync", "auth_token_revoke_expired"},
		Platforms: []string{"authelia", "authentik", "keycloak"}},
	{Name: "backup", Operations: []string{"backup_trigger", "backup_verify", "backup_prune_old", "backup_retry_failed", "backup_integrity_check", "backup_mount_check"},
		Platforms: []string{"borg", "duplicati", "kopia", "pbs", "restic"}},
	{Name: "certificate", Operations: []string{"cert_renew", "cert_chain_fix", "cert_deploy_reload", "cert_ocsp_refresh", "cert_revoke_replace"},
		Platforms: []string{"acmesh", "caddy", "certbot", "vault_pki"}},
	{Name: "database", Operations: []string{"db_connection_pool_reset", "db_cache_flush", "db_replication_sync", "db_vacuum_analyze", "db_slow_query_kill", "db_index_rebuild"},
		Platforms: []string{"influxdb", "mongodb", "mysql", "postgresql", "redis"}},
	{Name: "git_devops", Operations: []string{"git_gc_prune", "git_runner_restart", "ci_queue_clear", "ci_stuck_job_kill", "ci_cache_purge"},
		Platforms: []string{"forgejo", "gitea", "gitlab", "jenkins"}},
	{Name: "mail", Operations: []string{"mail_queue_flush", "mail_queue_clear_stuck", "mail_service_restart", "mail_index_rebuild", "mail_spam_filter_update"},
		Platforms: []string{"mailcow", "mailu", "postfix"}},
	{Name: "document_wiki", Operations: []string{"doc_reindex", "doc_cache_clear", "doc_thumbnail_regen", "doc_storage_optimize"},
		Platforms: []string{"bookstack", "nextcloud", "paperless", "wikijs"}},
	{Name: "security", Operations: []string{"security_unban_ip", "security_rule_reload", "security_signature_update", "security_quarantine_release", "security_scan_trigger"},
		Platforms: []string{"crowdsec", "fail2ban", "vaultwarden", "wazuh"}},
	{Name: "cloud_cdn", Operations: []string{"cdn_cache_purge", "cloud_instance_restart", "cloud_dns_failover", "cloud_ssl_redeploy", "cloud_firewall_rule"},
		Platforms: []string{"aws", "cloudflare", "hetzner"}},
	{Name: "network_hardware", Operations: []string{"net_restart_ap", "net_reconnect_client", "net_port_bounce", "net_dhcp_release_renew", "net_vlan_reassign", "net_firmware_apply", "net_routing_flush"},
		Platforms: []string{"mikrotik", "openwrt", "opnsense", "unifi"}},
	{Name: "power_ups", Operations: []string{"power_outlet_cycle", "power_ups_test", "power_load_shed", "power_schedule_shutdown", "power_battery_calibrate"},
		Platforms: []string{"apc", "nut", "shelly", "tasmota"}},
	{Name: "surveillance", Operations: []string{"cam_restart_detector", "cam_storage_cleanup", "cam_restream", "cam_motion_recalibrate", "cam_recording_repair"},
		Platforms: []string{"blueiris", "frigate", "shinobi", "zoneminder"}},
	{Name: "logging", Operations: []string{"log_index_rotate", "log_retention_enforce", "log_pipeline_restart", "log_forwarder_reconnect", "log_alert_silence"},
		Platforms: []string{"elasticsearch", "graylog", "loki", "splunk"}},
	{Name: "metrics", Operations: []string{"metrics_compaction", "metrics_retention_enforce", "metrics_scrape_restart", "metrics_cardinality_prune", "metrics_cache_clear"},
		Platforms: []string{"influxdb", "prometheus", "thanos", "victoriametrics"}},
	{Name: "message_queue", Operations: []string{"queue_purge_dead_letters", "queue_consumer_restart", "queue_rebalance_partitions", "queue_connection_reset", "queue_dlq_replay"},
		Platforms: []string{"kafka", "mosquitto", "nats", "rabbitmq"}},
	{Name: "photo_management", Operations: []string{"photo_reindex", "photo_thumbnail_regen", "photo_ml_reprocess", "photo_storage_optimize", "photo_duplicate_scan"},
		Platforms: []string{"immich", "lychee", "photoprism"}},
	{Name: "automation_workflow", Operations: []string{"workflow_restart_stuck", "workflow_clear_queue", "workflow_credential_refresh", "workflow_execution_cleanup"},
		Platforms: []string{"huginn", "n8n", "nodered"}},
	{Name: "file_sync", Operations: []string{"sync_force_rescan", "sync_conflict_resolve", "sync_connection_reset", "sync_index_rebuild"},
		Platforms: []string{"resilio", "seafile", "syncthing"}},
}
