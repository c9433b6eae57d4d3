package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nicholas-fedor/shoutrrr"

	"github.com/noba-go/noba/internal/alerts/internal/smtptest"
)

func TestEmailThroughRealSMTPServer(t *testing.T) {
	srv := smtptest.Start(t, "noba", "s3cret-pass")
	cfg := map[string]any{"email": map[string]any{"enabled": true, "smtp_server": srv.Addr, "username": "noba",
		"password": "s3cret-pass", "from": "noba@example.test", "to": "ops@example.test"}}
	s := &Sender{Timeout: 5 * time.Second}
	res := s.Send(context.Background(), cfg, []string{"email"}, Message{Level: "danger", Text: "CPU critical: 97%"})
	if len(res) != 1 || !res[0].OK {
		t.Fatalf("got %+v, want one ok result", res)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "noba@example.test" || len(m.To) != 1 || m.To[0] != "ops@example.test" || m.User != "noba" {
		t.Errorf("envelope: got %+v", m)
	}
	if !strings.Contains(m.Data, "Subject: NOBA DANGER Alert") || !strings.Contains(m.Data, "NOBA Alert [danger]: CPU critical: 97%") {
		t.Errorf("message: got %q", m.Data)
	}
}

func TestEmailWrongPasswordFailsWithoutLeakingIt(t *testing.T) {
	srv := smtptest.Start(t, "noba", "right-pass")
	cfg := map[string]any{"email": map[string]any{"enabled": true, "smtp_server": srv.Addr, "username": "noba",
		"password": "wrong-pass-xyz", "from": "noba@example.test", "to": "ops@example.test"}}
	res := (&Sender{Timeout: 5 * time.Second}).Send(context.Background(), cfg, []string{"email"}, Message{Level: "info", Text: "x"})
	if res[0].OK {
		t.Fatalf("got ok with a wrong password")
	}
	if strings.Contains(res[0].Error, "wrong-pass-xyz") {
		t.Errorf("error leaks the password: %q", res[0].Error)
	}
}

func TestWebhookSignedJSON(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
	}))
	defer hs.Close()
	cfg := map[string]any{"webhook": map[string]any{"enabled": true, "url": hs.URL + "/hook", "secret": "hmac-key",
		"headers": map[string]any{"X-Team": "ops\r\nInjected: 1"}}}
	res := (&Sender{}).Send(context.Background(), cfg, []string{"webhook"},
		Message{Level: "warning", Text: "disk high", Event: "firing", RuleID: "disk", Timestamp: 1700000000})
	if !res[0].OK {
		t.Fatalf("got %+v", res)
	}
	r, body := got[0], bodies[0]
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	want := WebhookPayload{Source: "noba", Event: "firing", Level: "warning", Title: "NOBA WARNING Alert", Message: "disk high", RuleID: "disk", Timestamp: 1700000000}
	if p != want {
		t.Errorf("payload: got %+v, want %+v", p, want)
	}
	mac := hmac.New(sha256.New, []byte("hmac-key"))
	mac.Write(body)
	if sig := r.Header.Get("X-Noba-Signature"); sig != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("signature: got %q", sig)
	}
	if r.Header.Get("X-Team") != "opsInjected: 1" || r.Header.Get("Injected") != "" {
		t.Errorf("header injection not neutralised: %v", r.Header)
	}
}

func TestWebhookFailuresReported(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer bad.Close()
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)
	cases := []struct {
		url, want string
	}{
		{bad.URL + "/x", "webhook: HTTP 500"},
		{bad.URL + "/redirect", "webhook: HTTP 302"},
		{slow.URL + "/secret-path-token", "webhook: request failed"},
		{"ftp://example.test/", "webhook: url must be an http(s) URL"},
	}
	for _, tc := range cases {
		cfg := map[string]any{"webhook": map[string]any{"enabled": true, "url": tc.url}}
		res := (&Sender{Timeout: 300 * time.Millisecond}).Send(context.Background(), cfg, []string{"webhook"}, Message{Text: "x"})
		if res[0].OK || !strings.Contains(res[0].Error, tc.want) {
			t.Errorf("%s: got %+v, want error containing %q", tc.url, res[0], tc.want)
		}
		if strings.Contains(res[0].Error, "secret-path-token") {
			t.Errorf("error leaks the webhook URL: %q", res[0].Error)
		}
	}
}

// The test server speaks Gotify's POST /message API and ntfy's POST /<topic>.
func TestGotifyAndNtfyAgainstTheirAPIs(t *testing.T) {
	type call struct {
		path, key, auth string
		body            map[string]any
		raw             string
		header          http.Header
	}
	calls := make(chan call, 4)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c := call{path: r.URL.Path, key: r.Header.Get("X-Gotify-Key"), auth: r.Header.Get("Authorization"), raw: string(b), header: r.Header}
		_ = json.Unmarshal(b, &c.body)
		calls <- c
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":1,"appid":1,"message":"x","title":"t","priority":8,"date":"2024-01-01T00:00:00Z"}`)
	}))
	defer hs.Close()
	cfg := map[string]any{
		"gotify": map[string]any{"enabled": true, "url": hs.URL, "app_token": "AbCdEfGhIjKlMnO"},
		"ntfy":   map[string]any{"enabled": true, "url": hs.URL + "/noba-alerts", "token": "tk_secret"},
	}
	res := (&Sender{Timeout: 5 * time.Second}).Send(context.Background(), cfg, []string{"gotify"}, Message{Level: "critical", Text: "boom"})
	if !res[0].OK {
		t.Fatalf("gotify: %+v", res)
	}
	c := <-calls
	if c.path != "/message" || c.key != "AbCdEfGhIjKlMnO" || c.body["message"] != "boom" ||
		c.body["title"] != "NOBA CRITICAL Alert" || c.body["priority"] != float64(8) {
		t.Errorf("gotify request: %+v", c)
	}
	res = (&Sender{Timeout: 5 * time.Second}).Send(context.Background(), cfg, []string{"ntfy"}, Message{Level: "warning", Text: "hello ntfy"})
	if !res[0].OK {
		t.Fatalf("ntfy: %+v", res)
	}
	c = <-calls
	if c.path != "/noba-alerts" || c.raw != "hello ntfy" || c.header.Get("Title") != "NOBA WARNING Alert" || !strings.HasPrefix(c.auth, "Basic ") {
		t.Errorf("ntfy request: %+v", c)
	}
}

func TestShoutrrrURLsForFixedHostChannels(t *testing.T) {
	m := Message{Level: "danger", Text: "CPU critical"}
	cases := []struct {
		ch       string
		conf     map[string]any
		contains []string
	}{
		{"telegram", map[string]any{"bot_token": "123456:ABCdefGhIJKlmnOPQ", "chat_id": "-100123"},
			[]string{"telegram://123456:ABCdefGhIJKlmnOPQ@telegram?", "chats=-100123"}},
		{"discord", map[string]any{"webhook_url": "https://discord.com/api/webhooks/987654321/tok-en_1"},
			[]string{"discord://tok-en_1@987654321"}},
		{"slack", map[string]any{"webhook_url": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"},
			[]string{"slack://hook:T00000000-B00000000-XXXXXXXXXXXXXXXXXXXXXXXX@webhook"}},
		{"pushover", map[string]any{"app_token": "aTokenValue123", "user_key": "uUserKey456"},
			[]string{"pushover://shoutrrr:aTokenValue123@uUserKey456/", "priority=1", "title=NOBA+DANGER+Alert"}},
		{"email", map[string]any{"smtp_server": "mail.example.test:587", "username": "u", "password": "p", "from": "a@x.test", "to": "b@x.test, c@x.test", "starttls": true},
			[]string{"smtp://u:p@mail.example.test:587/", "usestarttls=Yes", "toaddresses=b%40x.test%2Cc%40x.test"}},
	}
	for _, tc := range cases {
		u, _, err := ShoutrrrURL(tc.ch, tc.conf, m, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", tc.ch, err)
		}
		for _, want := range tc.contains {
			if !strings.Contains(u, want) {
				t.Errorf("%s: URL %q lacks %q", tc.ch, u, want)
			}
		}
		if _, err := shoutrrr.CreateSender(u); err != nil {
			t.Errorf("%s: shoutrrr rejects %q: %v", tc.ch, u, err)
		}
	}
	for _, tc := range []struct {
		ch   string
		conf map[string]any
		want string
	}{
		{"telegram", map[string]any{"bot_token": "x"}, "telegram: missing chat_id"},
		{"discord", map[string]any{"webhook_url": "https://example.test/nothing"}, "discord: webhook_url must be"},
		{"slack", map[string]any{"webhook_url": "http://hooks.slack.com/services/a/b/c"}, "slack: webhook_url must be"},
		{"email", map[string]any{"smtp_server": "h"}, "email: missing from, to"},
	} {
		if _, _, err := ShoutrrrURL(tc.ch, tc.conf, m, time.Second); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.ch, err, tc.want)
		}
	}
}

func TestTargetsAndEnabled(t *testing.T) {
	cfg := map[string]any{"email": map[string]any{"enabled": true}, "slack": map[string]any{"enabled": "yes"},
		"discord": map[string]any{"enabled": false}, "bogus": map[string]any{"enabled": true}}
	if got := strings.Join(Enabled(cfg), ","); got != "email,slack" {
		t.Errorf("Enabled: got %q", got)
	}
	if got := strings.Join(Targets(cfg, []string{"slack", "discord"}), ","); got != "slack" {
		t.Errorf("Targets: got %q", got)
	}
}

func TestDispatcherDeliversInBackground(t *testing.T) {
	got := make(chan WebhookPayload, 2)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p WebhookPayload
		_ = json.NewDecoder(r.Body).Decode(&p)
		got <- p
	}))
	defer hs.Close()
	settings := func() map[string]any {
		return map[string]any{"notifications": map[string]any{"webhook": map[string]any{"enabled": true, "url": hs.URL}}}
	}
	d := NewDispatcher(&Sender{}, settings, slog.New(slog.DiscardHandler))
	if !d.Enqueue(nil, Message{Text: "queued before start", Event: "firing"}) {
		t.Fatal("enqueue refused")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	select {
	case p := <-got:
		if p.Message != "queued before start" {
			t.Errorf("got %+v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
	cancel()
	<-done
}
