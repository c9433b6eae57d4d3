package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Values is the typed settings: every key of spec 10 §3.4 (and those the
// rooms read), decoded once per change of config.yaml and shared by every
// reader. It is read-only: never modify a *Values or what it holds.
//
// Secrets are marked in this schema with the struct tag `secret:"true"`
// (the whole value is a secret) or `secret:"values"` (every value of a
// mapping, e.g. webhook headers). Masking, the "***" round trip, the
// change log and the audit follow these tags at every depth. Keys a room
// adds to webKeys without a field here are still read through Get/String.
type Values struct {
	MonitoredServices     CSV                       `json:"monitoredServices"`
	RadarIps              CSV                       `json:"radarIps"`
	BookmarksStr          string                    `json:"bookmarksStr"`
	BmcMap                string                    `json:"bmcMap"`
	WanTestIP             string                    `json:"wanTestIp"`
	LanTestIP             string                    `json:"lanTestIp"`
	CustomActions         []CustomAction            `json:"customActions"`
	Automations           []LegacyWebhook           `json:"automations"`
	CustomMetricScripts   []any                     `json:"customMetricScripts"`
	StatusPageServices    string                    `json:"statusPageServices"`
	ServiceDependencies   string                    `json:"serviceDependencies"`
	Runbooks              []any                     `json:"runbooks"`
	SiteMap               map[string]any            `json:"siteMap"`
	SiteNames             map[string]any            `json:"siteNames"`
	AlertRules            []AlertRule               `json:"alertRules"`
	MaintenanceWindows    []any                     `json:"maintenanceWindows"`
	FsTriggers            []any                     `json:"fsTriggers"`
	RssTriggers           []any                     `json:"rssTriggers"`
	HassEventTriggers     []any                     `json:"hassEventTriggers"`
	PushoverEnabled       bool                      `json:"pushoverEnabled"`
	PushoverAppToken      string                    `json:"pushoverAppToken" secret:"true"`
	PushoverUserKey       string                    `json:"pushoverUserKey" secret:"true"`
	GotifyEnabled         bool                      `json:"gotifyEnabled"`
	GotifyURL             string                    `json:"gotifyUrl"`
	GotifyAppToken        string                    `json:"gotifyAppToken" secret:"true"`
	PiholeURL             string                    `json:"piholeUrl"`
	PiholeToken           string                    `json:"piholeToken" secret:"true"`
	PiholePassword        string                    `json:"piholePassword" secret:"true"`
	AdguardURL            string                    `json:"adguardUrl"`
	AdguardUser           string                    `json:"adguardUser"`
	AdguardPass           string                    `json:"adguardPass" secret:"true"`
	DnsService            string                    `json:"dnsService"`
	PlexURL               string                    `json:"plexUrl"`
	PlexToken             string                    `json:"plexToken" secret:"true"`
	JellyfinURL           string                    `json:"jellyfinUrl"`
	JellyfinKey           string                    `json:"jellyfinKey" secret:"true"`
	TautulliURL           string                    `json:"tautulliUrl"`
	TautulliKey           string                    `json:"tautulliKey" secret:"true"`
	OverseerrURL          string                    `json:"overseerrUrl"`
	OverseerrKey          string                    `json:"overseerrKey" secret:"true"`
	RadarrURL             string                    `json:"radarrUrl"`
	RadarrKey             string                    `json:"radarrKey" secret:"true"`
	SonarrURL             string                    `json:"sonarrUrl"`
	SonarrKey             string                    `json:"sonarrKey" secret:"true"`
	LidarrURL             string                    `json:"lidarrUrl"`
	LidarrKey             string                    `json:"lidarrKey" secret:"true"`
	ReadarrURL            string                    `json:"readarrUrl"`
	ReadarrKey            string                    `json:"readarrKey" secret:"true"`
	BazarrURL             string                    `json:"bazarrUrl"`
	BazarrKey             string                    `json:"bazarrKey" secret:"true"`
	ProwlarrURL           string                    `json:"prowlarrUrl"`
	ProwlarrKey           string                    `json:"prowlarrKey" secret:"true"`
	QbitURL               string                    `json:"qbitUrl"`
	QbitUser              string                    `json:"qbitUser"`
	QbitPass              string                    `json:"qbitPass" secret:"true"`
	TruenasURL            string                    `json:"truenasUrl"`
	TruenasKey            string                    `json:"truenasKey" secret:"true"`
	ProxmoxURL            string                    `json:"proxmoxUrl"`
	ProxmoxUser           string                    `json:"proxmoxUser"`
	ProxmoxTokenName      string                    `json:"proxmoxTokenName"`
	ProxmoxTokenValue     string                    `json:"proxmoxTokenValue" secret:"true"`
	ProxmoxVerifySSL      bool                      `json:"proxmoxVerifySsl"`
	UnifiURL              string                    `json:"unifiUrl"`
	UnifiUser             string                    `json:"unifiUser"`
	UnifiPass             string                    `json:"unifiPass" secret:"true"`
	UnifiSite             string                    `json:"unifiSite"`
	UnifiVerifySSL        *bool                     `json:"unifiVerifySsl,omitempty"`
	TraefikURL            string                    `json:"traefikUrl"`
	NpmURL                string                    `json:"npmUrl"`
	NpmToken              string                    `json:"npmToken" secret:"true"`
	AuthentikURL          string                    `json:"authentikUrl"`
	AuthentikToken        string                    `json:"authentikToken" secret:"true"`
	CloudflareToken       string                    `json:"cloudflareToken" secret:"true"`
	CloudflareZoneID      string                    `json:"cloudflareZoneId"`
	OmvURL                string                    `json:"omvUrl"`
	OmvUser               string                    `json:"omvUser"`
	OmvPass               string                    `json:"omvPass" secret:"true"`
	XcpngURL              string                    `json:"xcpngUrl"`
	XcpngUser             string                    `json:"xcpngUser"`
	XcpngPass             string                    `json:"xcpngPass" secret:"true"`
	K8sURL                string                    `json:"k8sUrl"`
	K8sToken              string                    `json:"k8sToken" secret:"true"`
	K8sVerifySSL          *bool                     `json:"k8sVerifySsl,omitempty"`
	ScrutinyURL           string                    `json:"scrutinyUrl"`
	SpeedtestURL          string                    `json:"speedtestUrl"`
	KumaURL               string                    `json:"kumaUrl"`
	ComposeProjects       []any                     `json:"composeProjects"`
	WolDevices            []any                     `json:"wolDevices"`
	GameServers           []any                     `json:"gameServers"`
	InfluxdbURL           string                    `json:"influxdbUrl"`
	InfluxdbToken         string                    `json:"influxdbToken" secret:"true"`
	InfluxdbOrg           string                    `json:"influxdbOrg"`
	GraylogURL            string                    `json:"graylogUrl"`
	GraylogToken          string                    `json:"graylogToken" secret:"true"`
	GraylogUser           string                    `json:"graylogUser"`
	GraylogPassword       string                    `json:"graylogPassword" secret:"true"`
	FrigateURL            string                    `json:"frigateUrl"`
	CameraFeeds           []any                     `json:"cameraFeeds"`
	HassURL               string                    `json:"hassUrl"`
	HassToken             string                    `json:"hassToken" secret:"true"`
	HassSensors           string                    `json:"hassSensors"`
	HomebridgeURL         string                    `json:"homebridgeUrl"`
	HomebridgeUser        string                    `json:"homebridgeUser"`
	HomebridgePass        string                    `json:"homebridgePass" secret:"true"`
	Z2mURL                string                    `json:"z2mUrl"`
	EsphomeURL            string                    `json:"esphomeUrl"`
	UnifiProtectURL       string                    `json:"unifiProtectUrl"`
	UnifiProtectUser      string                    `json:"unifiProtectUser"`
	UnifiProtectPass      string                    `json:"unifiProtectPass" secret:"true"`
	UnifiProtectVerifySSL *bool                     `json:"unifiProtectVerifySsl,omitempty"`
	PikvmURL              string                    `json:"pikvmUrl"`
	PikvmUser             string                    `json:"pikvmUser"`
	PikvmPass             string                    `json:"pikvmPass" secret:"true"`
	EnergySensors         string                    `json:"energySensors"`
	WeatherAPIKey         string                    `json:"weatherApiKey" secret:"true"`
	WeatherCity           string                    `json:"weatherCity"`
	CertHosts             string                    `json:"certHosts"`
	DomainList            string                    `json:"domainList"`
	DevicePresenceIps     string                    `json:"devicePresenceIps"`
	GiteaURL              string                    `json:"giteaUrl"`
	GiteaToken            string                    `json:"giteaToken" secret:"true"`
	GitlabURL             string                    `json:"gitlabUrl"`
	GitlabToken           string                    `json:"gitlabToken" secret:"true"`
	GithubToken           string                    `json:"githubToken" secret:"true"`
	PaperlessURL          string                    `json:"paperlessUrl"`
	PaperlessToken        string                    `json:"paperlessToken" secret:"true"`
	VaultwardenURL        string                    `json:"vaultwardenUrl"`
	VaultwardenToken      string                    `json:"vaultwardenToken" secret:"true"`
	NextcloudURL          string                    `json:"nextcloudUrl"`
	NextcloudUser         string                    `json:"nextcloudUser"`
	NextcloudPass         string                    `json:"nextcloudPass" secret:"true"`
	OIDCProviderURL       string                    `json:"oidcProviderUrl"`
	OIDCClientID          string                    `json:"oidcClientId"`
	OIDCClientSecret      string                    `json:"oidcClientSecret" secret:"true"`
	OIDCProviderName      string                    `json:"oidcProviderName"`
	SocialProviders       map[string]SocialProvider `json:"socialProviders"`
	LdapURL               string                    `json:"ldapUrl"`
	LdapBaseDN            string                    `json:"ldapBaseDn"`
	LdapBindDN            string                    `json:"ldapBindDn"`
	LdapBindPassword      string                    `json:"ldapBindPassword" secret:"true"`
	IPWhitelist           string                    `json:"ipWhitelist"`
	AuditRetentionDays    float64                   `json:"auditRetentionDays"`
	Require2fa            bool                      `json:"require2fa"`
	SAMLEnabled           bool                      `json:"samlEnabled"`
	SAMLIdpSSOURL         string                    `json:"samlIdpSsoUrl"`
	SAMLDisplayName       string                    `json:"samlDisplayName"`
	AgentKeys             string                    `json:"agentKeys" secret:"true"`
	LLMProvider           string                    `json:"llmProvider"`
	LLMModel              string                    `json:"llmModel"`
	LLMAPIKey             string                    `json:"llmApiKey" secret:"true"`
	LLMBaseURL            string                    `json:"llmBaseUrl"`
	LLMMaxTokens          float64                   `json:"llmMaxTokens"`
	LLMTemperature        float64                   `json:"llmTemperature"`
	LLMEnabled            bool                      `json:"llmEnabled"`
	KumaKey               string                    `json:"kumaKey" secret:"true"`
	N8nURL                string                    `json:"n8nUrl"`
	N8nAPIKey             string                    `json:"n8nApiKey" secret:"true"`
	ResticRepo            string                    `json:"resticRepo"`
	ResticPassword        string                    `json:"resticPassword" secret:"true"`
	PluginCatalogURL      string                    `json:"pluginCatalogUrl"`

	// Keys the rooms added to webKeys in blocks of their own.
	WolBroadcast         string  `json:"wolBroadcast"`
	XcpngVerifySSL       *bool   `json:"xcpngVerifySsl,omitempty"`
	PikvmVerifySSL       *bool   `json:"pikvmVerifySsl,omitempty"`
	VaultwardenVerifySSL *bool   `json:"vaultwardenVerifySsl,omitempty"`
	Z2mToken             string  `json:"z2mToken" secret:"true"`
	SSOBaseURL           string  `json:"ssoBaseUrl"`
	DockerHost           string  `json:"dockerHost"`
	TerminalEnabled      bool    `json:"terminalEnabled"`
	TerminalTimeout      float64 `json:"terminalTimeout"`

	// Backup, cloud and downloads sections (not under web:).
	BackupSources       []any  `json:"backupSources"`
	BackupDest          string `json:"backupDest"`
	BackupRetentionDays int    `json:"backupRetentionDays"`
	BackupKeepCount     int    `json:"backupKeepCount"`
	BackupVerifySample  int    `json:"backupVerifySample"`
	BackupMaxDelete     string `json:"backupMaxDelete"`
	BackupEmail         string `json:"backupEmail"`
	CloudRemote         string `json:"cloudRemote"`
	DownloadsDir        string `json:"downloadsDir"`
	OrganizeMaxDepth    int    `json:"organizeMaxDepth"`
	OrganizeExclude     string `json:"organizeExclude"`
	OrganizeCustomRules []any  `json:"organizeCustomRules"`

	// Notifications is the top-level notifications mapping (spec 10 §5.6).
	Notifications Notifications `json:"notifications"`
}

// Notifications are the alert channels of config.yaml (spec 10 §5.6).
type Notifications struct {
	Email    EmailChannel      `json:"email"`
	Telegram TelegramChannel   `json:"telegram"`
	Discord  WebhookURLChannel `json:"discord"`
	Slack    WebhookURLChannel `json:"slack"`
	Pushover PushoverChannel   `json:"pushover"`
	Gotify   GotifyChannel     `json:"gotify"`
	Ntfy     NtfyChannel       `json:"ntfy"`
	Webhook  WebhookChannel    `json:"webhook"`
}

// EmailChannel is notifications.email.
type EmailChannel struct {
	Enabled    bool   `json:"enabled"`
	SMTPServer string `json:"smtp_server"`
	Username   string `json:"username"`
	Password   string `json:"password" secret:"true"`
	From       string `json:"from"`
	To         string `json:"to"`
	StartTLS   bool   `json:"starttls"`
}

// TelegramChannel is notifications.telegram.
type TelegramChannel struct {
	Enabled  bool   `json:"enabled"`
	BotToken string `json:"bot_token" secret:"true"`
	ChatID   string `json:"chat_id"`
}

// WebhookURLChannel is notifications.discord / notifications.slack: the
// webhook URL itself is the credential.
type WebhookURLChannel struct {
	Enabled    bool   `json:"enabled"`
	WebhookURL string `json:"webhook_url" secret:"true"`
}

// PushoverChannel is notifications.pushover.
type PushoverChannel struct {
	Enabled  bool   `json:"enabled"`
	AppToken string `json:"app_token" secret:"true"`
	UserKey  string `json:"user_key" secret:"true"`
}

// GotifyChannel is notifications.gotify.
type GotifyChannel struct {
	Enabled  bool   `json:"enabled"`
	URL      string `json:"url"`
	AppToken string `json:"app_token" secret:"true"`
}

// NtfyChannel is notifications.ntfy.
type NtfyChannel struct {
	Enabled  bool   `json:"enabled"`
	URL      string `json:"url"`
	Token    string `json:"token" secret:"true"`
	Username string `json:"username"`
	Password string `json:"password" secret:"true"`
}

// WebhookChannel is notifications.webhook: every header value (an
// Authorization header, an API key) and the signing secret are secrets.
type WebhookChannel struct {
	Enabled bool              `json:"enabled"`
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers" secret:"values"`
	Secret  string            `json:"secret" secret:"true"`
}

// AlertRule is one entry of alertRules (spec 10 §5.1); fields the schema
// does not name are kept in config.yaml as they were written.
type AlertRule struct {
	ID        string      `json:"id"`
	Condition string      `json:"condition"`
	Severity  string      `json:"severity"`
	Message   string      `json:"message"`
	Channels  []string    `json:"channels"`
	Action    *RuleAction `json:"action"`
	Group     string      `json:"group"`
	Autonomy  *string     `json:"autonomy"`
}

// RuleAction is an alert rule's self-healing hand-off.
type RuleAction struct {
	Type     string            `json:"type"`
	Target   string            `json:"target"`
	Hostname string            `json:"hostname"`
	URL      string            `json:"url" secret:"true"`
	Headers  map[string]string `json:"headers" secret:"values"`
	Params   map[string]any    `json:"params"`
}

// CustomAction is one entry of customActions: its URL (which often
// carries a token in its query) is a secret.
type CustomAction struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	URL     string            `json:"url" secret:"true"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers" secret:"values"`
}

// LegacyWebhook is one entry of automations (legacy webhooks).
type LegacyWebhook struct {
	ID      string            `json:"id"`
	URL     string            `json:"url" secret:"true"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers" secret:"values"`
}

// SocialProvider is one entry of socialProviders.
type SocialProvider struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret" secret:"true"`
}

// CSV is a comma-separated setting ("nginx, sshd"), also accepted as a
// YAML list: the trimmed, non-empty items.
type CSV []string

// UnmarshalJSON reads a comma-separated string or a list of strings.
func (c *CSV) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*c = splitCSV(strings.Split(s, ","))
		return nil
	}
	var l []any
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	items := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			items = append(items, s)
		}
	}
	*c = splitCSV(items)
	return nil
}

func splitCSV(items []string) CSV {
	out := CSV{}
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// decodeValues decodes the flat settings dict into Values. Values of the
// wrong type (hand-written) leave their field at its zero value.
func decodeValues(flat map[string]any) *Values {
	v := &Values{}
	b, err := json.Marshal(flat)
	if err != nil {
		return v
	}
	if json.Unmarshal(b, v) != nil {
		// A type mismatch stops at the first bad field: decode key by key.
		rv := reflect.ValueOf(v).Elem()
		for name, idx := range valueFields() {
			x, ok := flat[name]
			if !ok {
				continue
			}
			xb, err := json.Marshal(x)
			if err != nil {
				continue
			}
			f := reflect.New(rv.Field(idx).Type())
			if json.Unmarshal(xb, f.Interface()) == nil {
				rv.Field(idx).Set(f.Elem())
			}
		}
	}
	return v
}

var valueFields = sync.OnceValue(func() map[string]int {
	out := map[string]int{}
	t := reflect.TypeFor[Values]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = i
	}
	return out
})

// node is the secret schema of one position of the settings document.
type node struct {
	secret   bool
	children map[string]*node // "*" matches any key of a mapping
	elem     *node            // list elements
}

func (n *node) child(k string) *node {
	if n == nil {
		return nil
	}
	if c, ok := n.children[k]; ok {
		return c
	}
	return n.children["*"]
}

// schema is the secret tree of the flat settings dict, from the struct
// tags of Values.
var schema = sync.OnceValue(func() *node { return nodeOf(reflect.TypeFor[Values](), "") })

func nodeOf(t reflect.Type, tag string) *node {
	if tag == "true" {
		return &node{secret: true}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		n := &node{children: map[string]*node{}}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if c := nodeOf(f.Type, f.Tag.Get("secret")); c != nil {
				n.children[name] = c
			}
		}
		return n
	case reflect.Slice:
		if e := nodeOf(t.Elem(), tag); e != nil {
			return &node{elem: e}
		}
	case reflect.Map:
		if tag == "values" {
			return &node{children: map[string]*node{"*": {secret: true}}}
		}
		if c := nodeOf(t.Elem(), ""); c != nil {
			return &node{children: map[string]*node{"*": c}}
		}
	}
	return nil
}

// IsSecretKey reports whether a top-level settings key holds a secret.
func IsSecretKey(k string) bool {
	return webKeys[k].secret || schema().child(k).isSecret()
}

func (n *node) isSecret() bool { return n != nil && n.secret }

// topNode is the schema of a top-level key (secret keys of webKeys that
// have no field in Values included).
func topNode(k string) *node {
	if webKeys[k].secret {
		return &node{secret: true}
	}
	return schema().child(k)
}

// secretAt reports whether the value of key k inside a mapping whose
// schema is n is a secret: by the schema, or, for keys the schema does
// not know (hand-written channels, free-form params), by its name.
func secretAt(n *node, k string, x any) bool {
	if c := n.child(k); c != nil {
		return c.secret
	}
	if _, isMap := x.(map[string]any); isMap {
		return false
	}
	if _, isList := x.([]any); isList {
		return false
	}
	return nestedSecret(k)
}

// maskAt masks v whose schema is n: secrets read "***" (empty ones "",
// so that a user can tell an unset secret from a set one) and the
// credentials of every URL read "***".
func maskAt(v any, n *node) any {
	if n.isSecret() {
		return maskValue(v)
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if secretAt(n, k, x) {
				out[k] = maskValue(x)
				continue
			}
			out[k] = maskAt(x, n.child(k))
		}
		return out
	case []any:
		out := make([]any, len(t))
		var e *node
		if n != nil {
			e = n.elem
		}
		for i, x := range t {
			out[i] = maskAt(x, e)
		}
		return out
	case string:
		return MaskURL(t)
	}
	return v
}

// MaskURL replaces the credentials of every URL in s (scheme://
// user:pass@host...) by "***": the password when there is one, else the
// whole user part (a token in the user position). A string may hold
// several URLs (a comma- or |-separated setting). Other text is returned
// unchanged.
func MaskURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "://")
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:i+3])
		rest = rest[i+3:]
		end := strings.IndexAny(rest, "/?#,| \t\n\"'<>")
		if end < 0 {
			end = len(rest)
		}
		at := strings.LastIndex(rest[:end], "@")
		if at < 0 {
			continue
		}
		user, pass, hasPass := strings.Cut(rest[:at], ":")
		switch {
		case hasPass && pass == "":
			b.WriteString(rest[:at])
		case hasPass:
			b.WriteString(user + ":" + Mask)
		default:
			b.WriteString(Mask)
		}
		rest = rest[at:]
	}
}

// restoreAt merges a posted value nv with the stored value old at a
// position whose schema is n: wherever nv carries the masked form of the
// stored value ("***" for a secret, a URL with "***" for credentials),
// the stored value is kept. Lists match their elements by "id" when both
// sides have one, else by position.
func restoreAt(nv, old any, n *node) any {
	if n.isSecret() {
		if s, ok := nv.(string); ok && s == Mask && old != nil {
			return old
		}
		return nv
	}
	switch t := nv.(type) {
	case map[string]any:
		om, _ := old.(map[string]any)
		out := make(map[string]any, len(t))
		for k, x := range t {
			ox, had := om[k]
			if !had {
				out[k] = x
				continue
			}
			if secretAt(n, k, ox) {
				if s, ok := x.(string); ok && s == Mask {
					out[k] = ox
					continue
				}
				out[k] = x
				continue
			}
			out[k] = restoreAt(x, ox, n.child(k))
		}
		return out
	case []any:
		ol, _ := old.([]any)
		var e *node
		if n != nil {
			e = n.elem
		}
		byID := map[string]any{}
		for _, o := range ol {
			if id := idOf(o); id != "" {
				byID[id] = o
			}
		}
		out := make([]any, len(t))
		for i, x := range t {
			var o any
			if id := idOf(x); id != "" {
				o = byID[id]
			} else if i < len(ol) && idOf(ol[i]) == "" {
				o = ol[i]
			}
			out[i] = restoreAt(x, o, e)
		}
		return out
	case string:
		if was, ok := old.(string); ok && t != was && strings.Contains(t, Mask) && MaskURL(was) == t {
			return was
		}
	}
	return nv
}

func idOf(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	switch id := m["id"].(type) {
	case string:
		return id
	case nil:
		return ""
	default:
		b, _ := json.Marshal(id)
		return string(b)
	}
}

// encryptAt encrypts the secret strings of v (schema n) for storage.
func (st *Settings) encryptAt(v any, n *node) (any, error) {
	if n.isSecret() {
		if s, ok := v.(string); ok {
			return st.encrypt(s)
		}
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if s, ok := x.(string); ok && secretAt(n, k, x) {
				e, err := st.encrypt(s)
				if err != nil {
					return nil, err
				}
				out[k] = e
				continue
			}
			e, err := st.encryptAt(x, n.child(k))
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case []any:
		var e *node
		if n != nil {
			e = n.elem
		}
		out := make([]any, len(t))
		for i, x := range t {
			y, err := st.encryptAt(x, e)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	}
	return v, nil
}
