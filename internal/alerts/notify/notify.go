// Package notify delivers alert notifications to the channels configured in
// the `notifications` mapping of config.yaml (spec 10 §5.6): email (SMTP),
// Telegram, Discord, Slack, Pushover, Gotify and ntfy through shoutrrr, and
// a generic signed JSON webhook. Every send is bounded in time, and the
// Dispatcher sends in the background so evaluation never waits on a channel.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nicholas-fedor/shoutrrr"
	"github.com/nicholas-fedor/shoutrrr/pkg/types"
)

// Channels are the channel names a rule may select, in dispatch order.
var Channels = []string{"email", "telegram", "discord", "slack", "pushover", "gotify", "ntfy", "webhook"}

// IsChannel reports whether name is a known channel.
func IsChannel(name string) bool {
	for _, c := range Channels {
		if c == name {
			return true
		}
	}
	return false
}

// DefaultTimeout bounds one send to one channel.
const DefaultTimeout = 10 * time.Second

// Message is one notification.
type Message struct {
	// Level is the severity (info, warning, danger, critical).
	Level string
	// Text is the notification text.
	Text string
	// Event is what happened: firing, resolved, escalated, reminder, test.
	Event string
	// RuleID names the rule or alert key (webhook payload only).
	RuleID    string
	Timestamp int64
}

// Result is one channel's outcome.
type Result struct {
	Channel string `json:"channel"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
}

// Sender sends messages to channels.
type Sender struct {
	// Timeout bounds each channel's send (DefaultTimeout when zero).
	Timeout time.Duration
	// HTTP is the client of the webhook channel (a bounded client when nil).
	HTTP *http.Client
}

func (s *Sender) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

func (s *Sender) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return &http.Client{
		Timeout: s.timeout(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Enabled lists the channels of cfg (the notifications mapping) whose
// `enabled` is truthy, in dispatch order.
func Enabled(cfg map[string]any) []string {
	var out []string
	for _, c := range Channels {
		m, _ := cfg[c].(map[string]any)
		if m != nil && truthy(m["enabled"]) {
			out = append(out, c)
		}
	}
	return out
}

func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "1", "true", "yes", "on":
			return true
		}
	case int:
		return t != 0
	case int64:
		return t != 0
	case float64:
		return t != 0
	}
	return false
}

func str(m map[string]any, k string) string {
	switch t := m[k].(type) {
	case string:
		return strings.TrimSpace(t)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return ""
}

// Targets resolves a rule's channel list against cfg: the given channels
// that are enabled, or every enabled channel when the list is empty.
func Targets(cfg map[string]any, channels []string) []string {
	en := Enabled(cfg)
	if len(channels) == 0 {
		return en
	}
	want := map[string]bool{}
	for _, c := range channels {
		want[c] = true
	}
	var out []string
	for _, c := range en {
		if want[c] {
			out = append(out, c)
		}
	}
	return out
}

// Send delivers m to each of channels concurrently and reports each result.
// It returns when every channel has answered or timed out.
func (s *Sender) Send(ctx context.Context, cfg map[string]any, channels []string, m Message) []Result {
	out := make([]Result, len(channels))
	var wg sync.WaitGroup
	for i, ch := range channels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conf, _ := cfg[ch].(map[string]any)
			err := s.sendOne(ctx, ch, conf, m)
			r := Result{Channel: ch, OK: err == nil}
			if err != nil {
				r.Error = redact(err.Error(), conf)
			}
			out[i] = r
		}()
	}
	wg.Wait()
	return out
}

func (s *Sender) sendOne(ctx context.Context, ch string, conf map[string]any, m Message) error {
	if conf == nil {
		return fmt.Errorf("channel %s is not configured", ch)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	if ch == "webhook" {
		return s.webhook(ctx, conf, m)
	}
	u, body, err := ShoutrrrURL(ch, conf, m, s.timeout())
	if err != nil {
		return err
	}
	sr, err := shoutrrr.CreateSender(u)
	if err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", ch, err)
	}
	sr.Timeout = s.timeout()
	done := make(chan error, 1)
	go func() {
		errs := sr.Send(body, &types.Params{})
		done <- errors.Join(errs...)
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w", ch, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: timed out after %s", ch, s.timeout())
	}
}

func upper(level string) string {
	if level == "" {
		level = "info"
	}
	return strings.ToUpper(level)
}

func urgent(level string) bool { return level == "danger" || level == "critical" }

// ShoutrrrURL builds the shoutrrr service URL and message body of channel
// ch from its settings mapping conf (spec 10 §5.6 keys).
func ShoutrrrURL(ch string, conf map[string]any, m Message, timeout time.Duration) (string, string, error) {
	lv := upper(m.Level)
	title := "NOBA " + lv + " Alert"
	need := func(keys ...string) error {
		var miss []string
		for _, k := range keys {
			if str(conf, k) == "" {
				miss = append(miss, k)
			}
		}
		if len(miss) > 0 {
			return fmt.Errorf("%s: missing %s", ch, strings.Join(miss, ", "))
		}
		return nil
	}
	q := url.Values{}
	switch ch {
	case "email":
		if err := need("smtp_server", "from", "to"); err != nil {
			return "", "", err
		}
		host, port := str(conf, "smtp_server"), "25"
		if h, p, err := net.SplitHostPort(host); err == nil {
			host, port = h, p
		}
		u := &url.URL{Scheme: "smtp", Host: net.JoinHostPort(host, port), Path: "/"}
		user, pass := str(conf, "username"), str(conf, "password")
		if user != "" {
			u.User = url.UserPassword(user, pass)
			q.Set("auth", "Plain")
		} else {
			q.Set("auth", "None")
		}
		q.Set("fromaddress", str(conf, "from"))
		q.Set("toaddresses", strings.Join(splitList(str(conf, "to")), ","))
		q.Set("subject", title)
		if truthy(conf["starttls"]) {
			q.Set("usestarttls", "Yes")
			q.Set("requirestarttls", "Yes")
		} else {
			q.Set("usestarttls", "No")
		}
		q.Set("timeout", timeout.String())
		u.RawQuery = q.Encode()
		return u.String(), "NOBA Alert [" + m.Level + "]: " + m.Text, nil
	case "telegram":
		if err := need("bot_token", "chat_id"); err != nil {
			return "", "", err
		}
		q.Set("chats", str(conf, "chat_id"))
		q.Set("title", "NOBA "+lv)
		q.Set("preview", "No")
		return "telegram://" + str(conf, "bot_token") + "@telegram?" + q.Encode(), m.Text, nil
	case "discord":
		if err := need("webhook_url"); err != nil {
			return "", "", err
		}
		id, tok, err := discordParts(str(conf, "webhook_url"))
		if err != nil {
			return "", "", err
		}
		q.Set("splitLines", "No")
		return "discord://" + url.PathEscape(tok) + "@" + id + "?" + q.Encode(), "**NOBA " + lv + "**\n" + m.Text, nil
	case "slack":
		if err := need("webhook_url"); err != nil {
			return "", "", err
		}
		tok, err := slackToken(str(conf, "webhook_url"))
		if err != nil {
			return "", "", err
		}
		return "slack://hook:" + tok + "@webhook", "*" + title + "*\n" + m.Text, nil
	case "pushover":
		if err := need("app_token", "user_key"); err != nil {
			return "", "", err
		}
		q.Set("title", title)
		if urgent(m.Level) {
			q.Set("priority", "1")
		} else {
			q.Set("priority", "0")
		}
		return "pushover://shoutrrr:" + url.PathEscape(str(conf, "app_token")) + "@" + str(conf, "user_key") + "/?" + q.Encode(), m.Text, nil
	case "gotify":
		if err := need("url", "app_token"); err != nil {
			return "", "", err
		}
		base, err := url.Parse(str(conf, "url"))
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
			return "", "", errors.New("gotify: url must be an http(s) URL")
		}
		q.Set("title", title)
		q.Set("useheader", "Yes")
		if urgent(m.Level) {
			q.Set("priority", "8")
		} else {
			q.Set("priority", "5")
		}
		if base.Scheme == "http" {
			q.Set("disabletls", "Yes")
		}
		p := strings.TrimRight(base.Path, "/") + "/" + str(conf, "app_token")
		return "gotify://" + base.Host + p + "?" + q.Encode(), m.Text, nil
	case "ntfy":
		if err := need("url"); err != nil {
			return "", "", err
		}
		base, err := url.Parse(str(conf, "url"))
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || strings.Trim(base.Path, "/") == "" {
			return "", "", errors.New("ntfy: url must be an http(s) URL ending with the topic, e.g. https://ntfy.sh/noba")
		}
		u := &url.URL{Scheme: "ntfy", Host: base.Host, Path: "/" + strings.Trim(base.Path, "/")}
		if tok := str(conf, "token"); tok != "" {
			u.User = url.UserPassword("", tok)
		} else if user := str(conf, "username"); user != "" {
			u.User = url.UserPassword(user, str(conf, "password"))
		}
		q.Set("title", title)
		q.Set("scheme", base.Scheme)
		if base.Scheme == "http" {
			q.Set("disabletls", "Yes")
		}
		if urgent(m.Level) {
			q.Set("priority", "5")
		} else {
			q.Set("priority", "3")
		}
		q.Set("firebase", "No")
		u.RawQuery = q.Encode()
		return u.String(), m.Text, nil
	}
	return "", "", fmt.Errorf("unknown channel %q", ch)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// discordParts splits https://discord.com/api/webhooks/<id>/<token>.
func discordParts(raw string) (id, token string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" {
		return "", "", errors.New("discord: webhook_url must be https://discord.com/api/webhooks/<id>/<token>")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 4 || parts[0] != "api" || parts[len(parts)-3] != "webhooks" {
		return "", "", errors.New("discord: webhook_url must be https://discord.com/api/webhooks/<id>/<token>")
	}
	return parts[len(parts)-2], parts[len(parts)-1], nil
}

// slackToken turns https://hooks.slack.com/services/T/B/X into T-B-X.
func slackToken(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || !strings.HasPrefix(u.Path, "/services/") {
		return "", errors.New("slack: webhook_url must be https://hooks.slack.com/services/<T>/<B>/<X>")
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(u.Path, "/services/"), "/"), "/")
	if len(parts) != 3 {
		return "", errors.New("slack: webhook_url must be https://hooks.slack.com/services/<T>/<B>/<X>")
	}
	return strings.Join(parts, "-"), nil
}

// WebhookPayload is the JSON body of the generic webhook channel.
type WebhookPayload struct {
	Source    string `json:"source"`
	Event     string `json:"event"`
	Level     string `json:"level"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	RuleID    string `json:"rule_id,omitempty"`
	Timestamp int64  `json:"timestamp"`
}

// webhook POSTs (or conf.method) a JSON payload to conf.url, signed with
// X-Noba-Signature: sha256=<hex HMAC> when conf.secret is set. No
// redirects are followed; success is a 2xx answer.
func (s *Sender) webhook(ctx context.Context, conf map[string]any, m Message) error {
	raw := str(conf, "url")
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("webhook: url must be an http(s) URL")
	}
	method := strings.ToUpper(str(conf, "method"))
	if method == "" {
		method = http.MethodPost
	}
	if method != http.MethodPost && method != http.MethodPut {
		return errors.New("webhook: method must be POST or PUT")
	}
	ts := m.Timestamp
	if ts == 0 {
		ts = time.Now().Unix()
	}
	body, _ := json.Marshal(WebhookPayload{Source: "noba", Event: m.Event, Level: m.Level, Title: "NOBA " + upper(m.Level) + " Alert",
		Message: m.Text, RuleID: m.RuleID, Timestamp: ts})
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "NOBA-Alerts")
	if hs, ok := conf["headers"].(map[string]any); ok {
		keys := make([]string, 0, len(hs))
		for k := range hs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, _ := hs[k].(string)
			k = strings.NewReplacer("\r", "", "\n", "").Replace(k)
			v = strings.NewReplacer("\r", "", "\n", "").Replace(v)
			if k != "" {
				req.Header.Set(k, v)
			}
		}
	}
	if sec := str(conf, "secret"); sec != "" {
		mac := hmac.New(sha256.New, []byte(sec))
		mac.Write(body)
		req.Header.Set("X-Noba-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return fmt.Errorf("webhook: request failed: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: HTTP %d", resp.StatusCode)
	}
	return nil
}

// redact removes every configured value of a channel (tokens, passwords,
// webhook URLs) from an error text before it is shown or logged.
func redact(msg string, conf map[string]any) string {
	var vals []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			if len(t) >= 4 {
				vals = append(vals, t, url.QueryEscape(t), url.PathEscape(t))
			}
		case map[string]any:
			for k, x := range t {
				if k == "enabled" {
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	walk(conf)
	// Longest first, so a URL is replaced whole before its parts.
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		// Hostnames and addresses are not secret and help the user; keep
		// values that look like a bare host or e-mail address.
		if looksPublic(v) {
			continue
		}
		msg = strings.ReplaceAll(msg, v, "***")
	}
	return msg
}

func looksPublic(v string) bool {
	if strings.Contains(v, "@") && !strings.Contains(v, "/") && !strings.Contains(v, ":") {
		return true // an e-mail address
	}
	if _, _, err := net.SplitHostPort(v); err == nil && !strings.Contains(v, "/") {
		return true // host:port
	}
	return false
}

// Dispatcher queues messages and sends them in the background with a few
// workers. Enqueue never blocks: when the queue is full the message is
// dropped and logged.
type Dispatcher struct {
	sender   *Sender
	settings func() map[string]any
	log      *slog.Logger
	q        chan job
	workers  int

	mu      sync.Mutex
	sent    int
	dropped int
}

type job struct {
	channels []string
	msg      Message
}

// NewDispatcher returns a dispatcher reading the notifications mapping
// from settings at send time.
func NewDispatcher(s *Sender, settings func() map[string]any, log *slog.Logger) *Dispatcher {
	return &Dispatcher{sender: s, settings: settings, log: log, q: make(chan job, 256), workers: 4}
}

// Enqueue queues m for channels (empty = every enabled channel). It reports
// whether the message was queued.
func (d *Dispatcher) Enqueue(channels []string, m Message) bool {
	select {
	case d.q <- job{channels: append([]string(nil), channels...), msg: m}:
		return true
	default:
		d.mu.Lock()
		d.dropped++
		d.mu.Unlock()
		d.log.Warn("notification queue full; message dropped", "event", m.Event, "rule_id", m.RuleID)
		return false
	}
}

// Name implements jobs.Job.
func (d *Dispatcher) Name() string { return "alerts-notify" }

// Run sends queued messages until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range d.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-d.q:
					d.deliver(ctx, j)
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

func (d *Dispatcher) deliver(ctx context.Context, j job) {
	cfg, _ := d.settings()["notifications"].(map[string]any)
	targets := Targets(cfg, j.channels)
	if len(targets) == 0 {
		return
	}
	for _, r := range d.sender.Send(ctx, cfg, targets, j.msg) {
		if !r.OK {
			d.log.Warn("notification failed", "channel", r.Channel, "rule_id", j.msg.RuleID, "err", r.Error)
		}
	}
	d.mu.Lock()
	d.sent++
	d.mu.Unlock()
}
