package config

import "strings"

// kind is the type of a settings key's value.
type kind int

const (
	kString kind = iota
	kBool
	kNumber
	kList
	kMap
)

type keySpec struct {
	kind kind
	def  any
	// absent keys have no default: they are missing from the settings until saved once.
	absent bool
	secret bool
}

func s() keySpec                   { return keySpec{kind: kString, def: ""} }
func sd(def string) keySpec        { return keySpec{kind: kString, def: def} }
func sec() keySpec                 { return keySpec{kind: kString, def: "", secret: true} }
func b(def bool) keySpec           { return keySpec{kind: kBool, def: def} }
func bAbsent() keySpec             { return keySpec{kind: kBool, absent: true} }
func n(def float64) keySpec        { return keySpec{kind: kNumber, def: def} }
func l() keySpec                   { return keySpec{kind: kList} }
func m(def map[string]any) keySpec { return keySpec{kind: kMap, def: def} }

// webKeys is the set of settings keys stored under `web:` in config.yaml
// (spec 10 §3.4, with the §13 F7 keys made loadable). Secret keys form an
// explicit list (§13 S15): they are encrypted at rest and never returned.
// Rooms that need more keys add them here, in a block of their own.
var webKeys = map[string]keySpec{
	// Core dashboard
	"monitoredServices": s(), "radarIps": s(), "bookmarksStr": s(), "bmcMap": s(),
	"wanTestIp": sd("8.8.8.8"), "lanTestIp": s(), "customActions": l(), "automations": l(),
	"customMetricScripts": l(), "statusPageServices": s(), "serviceDependencies": s(), "runbooks": l(),
	"siteMap": m(map[string]any{}), "siteNames": m(map[string]any{"siteA": "Site A", "siteB": "Site B"}),
	// Alerting
	"alertRules": l(), "maintenanceWindows": l(), "fsTriggers": l(), "rssTriggers": l(), "hassEventTriggers": l(),
	// Notifications (flattened mirror of notifications.pushover / notifications.gotify)
	"pushoverEnabled": b(false), "pushoverAppToken": sec(), "pushoverUserKey": sec(),
	"gotifyEnabled": b(false), "gotifyUrl": s(), "gotifyAppToken": sec(),
	// DNS
	"piholeUrl": s(), "piholeToken": sec(), "piholePassword": sec(), "adguardUrl": s(), "adguardUser": s(),
	"adguardPass": sec(), "dnsService": s(),
	// Media
	"plexUrl": s(), "plexToken": sec(), "jellyfinUrl": s(), "jellyfinKey": sec(), "tautulliUrl": s(), "tautulliKey": sec(),
	"overseerrUrl": s(), "overseerrKey": sec(), "radarrUrl": s(), "radarrKey": sec(), "sonarrUrl": s(), "sonarrKey": sec(),
	"lidarrUrl": s(), "lidarrKey": sec(), "readarrUrl": s(), "readarrKey": sec(), "bazarrUrl": s(), "bazarrKey": sec(),
	"prowlarrUrl": s(), "prowlarrKey": sec(), "qbitUrl": s(), "qbitUser": s(), "qbitPass": sec(),
	// Infra
	"truenasUrl": s(), "truenasKey": sec(), "proxmoxUrl": s(), "proxmoxUser": s(), "proxmoxTokenName": s(),
	"proxmoxTokenValue": sec(), "proxmoxVerifySsl": b(true), "unifiUrl": s(), "unifiUser": s(), "unifiPass": sec(),
	"unifiSite": s(), "unifiVerifySsl": bAbsent(), "traefikUrl": s(), "npmUrl": s(), "npmToken": sec(),
	"authentikUrl": s(), "authentikToken": sec(), "cloudflareToken": sec(), "cloudflareZoneId": s(),
	"omvUrl": s(), "omvUser": s(), "omvPass": sec(), "xcpngUrl": s(), "xcpngUser": s(), "xcpngPass": sec(),
	"k8sUrl": s(), "k8sToken": sec(), "k8sVerifySsl": bAbsent(), "scrutinyUrl": s(), "speedtestUrl": s(), "kumaUrl": s(),
	"composeProjects": l(), "wolDevices": l(), "gameServers": l(), "influxdbUrl": s(), "influxdbToken": sec(),
	"influxdbOrg": s(), "graylogUrl": s(), "graylogToken": sec(),
	"graylogUser": {kind: kString, absent: true}, "graylogPassword": {kind: kString, absent: true, secret: true},
	"frigateUrl": s(), "cameraFeeds": l(),
	// IoT
	"hassUrl": s(), "hassToken": sec(), "hassSensors": s(), "homebridgeUrl": s(), "homebridgeUser": s(),
	"homebridgePass": sec(), "z2mUrl": s(), "esphomeUrl": s(), "unifiProtectUrl": s(), "unifiProtectUser": s(),
	"unifiProtectPass": sec(), "unifiProtectVerifySsl": bAbsent(), "pikvmUrl": s(), "pikvmUser": s(), "pikvmPass": sec(),
	"energySensors": s(),
	// Monitoring extras
	"weatherApiKey": sec(), "weatherCity": s(), "certHosts": s(), "domainList": s(), "devicePresenceIps": s(),
	// DevOps
	"giteaUrl": s(), "giteaToken": sec(), "gitlabUrl": s(), "gitlabToken": sec(), "githubToken": sec(),
	"paperlessUrl": s(), "paperlessToken": sec(), "vaultwardenUrl": s(), "vaultwardenToken": sec(),
	"nextcloudUrl": s(), "nextcloudUser": s(), "nextcloudPass": sec(),
	// Security
	"oidcProviderUrl": s(), "oidcClientId": s(), "oidcClientSecret": sec(), "oidcProviderName": sd("SSO"),
	"socialProviders": m(map[string]any{}), "ldapUrl": s(), "ldapBaseDn": s(), "ldapBindDn": s(),
	"ldapBindPassword": sec(), "ipWhitelist": s(), "auditRetentionDays": n(90), "require2fa": b(false),
	"samlEnabled": b(false), "samlIdpSsoUrl": s(), "samlDisplayName": s(),
	// Agents
	"agentKeys": sec(),
	// AI
	"llmProvider": s(), "llmModel": s(), "llmApiKey": sec(), "llmBaseUrl": s(), "llmMaxTokens": n(4096),
	"llmTemperature": n(0.3), "llmEnabled": b(false),
	// integrations room: the Uptime Kuma API key for its /metrics endpoint
	// (basic auth, empty user); the status-page API needs none.
	"kumaKey": sec(),
	// integrations room (router 9 and provider gaps): the Wake-on-LAN
	// broadcast address, TLS verification for self-signed XCP-ng, PiKVM and
	// Vaultwarden, the Zigbee2MQTT frontend auth token.
	"wolBroadcast": s(), "xcpngVerifySsl": bAbsent(), "pikvmVerifySsl": bAbsent(), "vaultwardenVerifySsl": bAbsent(),
	"z2mToken": sec(),
	// Integrations without a section of their own
	"n8nUrl": s(), "n8nApiKey": sec(), "resticRepo": s(), "resticPassword": sec(), "pluginCatalogUrl": s(),
	// admin group: single sign-on builds its redirect URIs from the server's
	// external URL (spec 10 §13 S3), not from the request's Host header.
	"ssoBaseUrl": s(),
	// infra rooms: the container engine address (unix:///run/podman/podman.sock,
	// tcp://127.0.0.1:2375; empty: DOCKER_HOST, else /var/run/docker.sock) and
	// the server terminal WebSocket (off unless enabled; session limit in seconds).
	"dockerHost": s(), "terminalEnabled": b(false), "terminalTimeout": n(1800),
}

// backupKeys map flat keys to the backup/cloud/downloads sections of config.yaml.
var backupKeys = []struct {
	flat string
	path []string
	kind kind
	def  any
}{
	{"backupSources", []string{"backup", "sources"}, kList, nil},
	{"backupDest", []string{"backup", "dest"}, kString, ""},
	{"backupRetentionDays", []string{"backup", "retention_days"}, kNumber, 7},
	{"backupKeepCount", []string{"backup", "keep_count"}, kNumber, 0},
	{"backupVerifySample", []string{"backup", "verify_sample"}, kNumber, 20},
	{"backupMaxDelete", []string{"backup", "max_delete"}, kString, ""},
	{"backupEmail", []string{"backup", "email"}, kString, ""},
	{"cloudRemote", []string{"cloud", "remote"}, kString, ""},
	{"downloadsDir", []string{"downloads", "dir"}, kString, ""},
	{"organizeMaxDepth", []string{"downloads", "organize", "max_depth"}, kNumber, 1},
	{"organizeExclude", []string{"downloads", "organize", "exclude"}, kString, ""},
	{"organizeCustomRules", []string{"downloads", "organize", "custom_rules"}, kList, nil},
}

// flattenedNotify are the web keys mirrored from notifications.pushover/gotify.
var flattenedNotify = map[string][2]string{
	"pushoverEnabled":  {"pushover", "enabled"},
	"pushoverAppToken": {"pushover", "app_token"},
	"pushoverUserKey":  {"pushover", "user_key"},
	"gotifyEnabled":    {"gotify", "enabled"},
	"gotifyUrl":        {"gotify", "url"},
	"gotifyAppToken":   {"gotify", "app_token"},
}

// nestedSecret reports whether a key the schema (Values) does not know,
// inside a nested mapping (a hand-written channel, free-form params),
// names a secret. Keys the schema knows follow its tags instead.
func nestedSecret(k string) bool {
	lk := strings.ToLower(k)
	for _, w := range []string{"token", "secret", "pass", "credential", "webhook", "api_key", "apikey", "user_key", "private"} {
		if strings.Contains(lk, w) {
			return true
		}
	}
	return lk == "key" || strings.HasSuffix(lk, "_key") || strings.HasSuffix(lk, "key") && !strings.HasSuffix(lk, "keys")
}
