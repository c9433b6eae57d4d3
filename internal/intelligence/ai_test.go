package intelligence_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

// fakeOpenAI speaks the chat-completions API and records every request body.
type fakeOpenAI struct {
	mu     sync.Mutex
	bodies []string
	auth   []string
	reply  string
	status int
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(b))
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	reply, status := f.reply, f.status
	f.mu.Unlock()
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	out, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": reply}, "finish_reason": "stop"}}})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

func (f *fakeOpenAI) last() (map[string]any, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m map[string]any
	_ = json.Unmarshal([]byte(f.bodies[len(f.bodies)-1]), &m)
	return m, f.bodies[len(f.bodies)-1]
}

func TestAIWithoutLLM(t *testing.T) {
	env := servertest.New(t)
	op := env.Token("operator")
	var st map[string]any
	if code := env.JSON("GET", "/api/ai/status", env.Token("viewer"), nil, &st); code != 200 || st["enabled"] != false || st["provider"] != "" || st["model"] != "" {
		t.Fatalf("status: %d %v", code, st)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/ai/chat", map[string]any{"message": "hello"}},
		{"POST", "/api/ai/analyze-logs", map[string]any{"logs": "error: boom"}},
	} {
		if code, b := env.Do(c.method, c.path, op, c.body); code != 503 || errMsg(b) != "LLM not configured" {
			t.Errorf("%s: %d %s", c.path, code, b)
		}
	}
	id := insertIncident(t, env, time.Now().Unix(), "warning", "x")
	if code, b := env.Do("POST", fmt.Sprintf("/api/ai/summarize-incident/%d", id), op, nil); code != 503 {
		t.Errorf("summarize: %d %s", code, b)
	}
	// Bad input is a 400 whether or not an LLM is configured.
	if code, b := env.Do("POST", "/api/ai/chat", op, map[string]any{"message": " "}); code != 400 || errMsg(b) != "message is required" {
		t.Errorf("empty chat: %d %s", code, b)
	}
	if code, b := env.Do("POST", "/api/ai/analyze-logs", op, map[string]any{}); code != 400 || errMsg(b) != "logs field is required" {
		t.Errorf("empty logs: %d %s", code, b)
	}
	// The connection test names what is missing.
	if code, b := env.Do("POST", "/api/ai/test", env.Token("admin"), nil); code != 400 || errMsg(b) != "Anthropic API key not configured" {
		t.Errorf("test without config: %d %s", code, b)
	}
}

func TestAIChatContextAndSecrets(t *testing.T) {
	fake := &fakeOpenAI{reply: "CPU is fine. [ACTION:restart_service:web-01:nginx] and [ACTION:ping:db-01]"}
	prov := httptest.NewServer(fake)
	defer prov.Close()
	env := servertest.New(t)
	const (
		apiKey    = "sk-llm-SECRET-0001"
		agentKey  = "agent-key-SECRET-0002"
		piholeTok = "pihole-SECRET-0003"
	)
	if _, err := env.Server.Settings.Update(map[string]any{"llmEnabled": true, "llmProvider": "openai", "llmModel": "gpt-test",
		"llmBaseUrl": prov.URL, "llmApiKey": apiKey, "agentKeys": agentKey, "piholeToken": piholeTok, "llmMaxTokens": 512}); err != nil {
		t.Fatal(err)
	}
	// Secrets that leaked into alert and incident text must not reach the prompt either.
	now := time.Now().Unix()
	if _, err := env.Server.DB.W.Exec(`INSERT INTO alert_history (rule_id, source, timestamp, severity, message) VALUES ('cpu_high', 'rule', ?, 'critical', ?)`,
		now-10, "CPU high on web-01 (token "+piholeTok+")"); err != nil {
		t.Fatal(err)
	}
	insertIncident(t, env, now-5, "critical", "web-01 down; key "+agentKey)

	var st map[string]any
	env.JSON("GET", "/api/ai/status", env.Token("viewer"), nil, &st)
	if st["enabled"] != true || st["provider"] != "openai" || st["model"] != "gpt-test" {
		t.Errorf("status: %v", st)
	}
	for k := range st {
		if strings.Contains(fmt.Sprint(st[k]), "SECRET") {
			t.Errorf("status exposes a secret in %q", k)
		}
	}

	var out struct {
		Response string           `json:"response"`
		Actions  []map[string]any `json:"actions"`
	}
	history := []any{map[string]any{"role": "system", "content": "ignore me"}, map[string]any{"role": "user", "content": "earlier question"},
		map[string]any{"role": "assistant", "content": ""}, map[string]any{"role": "assistant", "content": "earlier answer"}}
	code := env.JSON("POST", "/api/ai/chat", env.Token("operator"), map[string]any{"message": "Is web-01 ok? my key is " + apiKey, "history": history}, &out)
	if code != 200 || !strings.HasPrefix(out.Response, "CPU is fine.") {
		t.Fatalf("chat: %d %+v", code, out)
	}
	if len(out.Actions) != 2 || out.Actions[0]["cmd"] != "restart_service" || out.Actions[0]["hostname"] != "web-01" || out.Actions[0]["params"] != "nginx" ||
		out.Actions[1]["cmd"] != "ping" || out.Actions[1]["params"] != "" {
		t.Errorf("actions = %v", out.Actions)
	}
	body, raw := fake.last()
	for _, s := range []string{apiKey, agentKey, piholeTok} {
		if strings.Contains(raw, s) {
			t.Errorf("the prompt carries the secret %q", s)
		}
	}
	if !strings.Contains(raw, "***") {
		t.Error("leaked secrets were not replaced by ***")
	}
	msgs := body["messages"].([]any)
	roles := []string{}
	for _, m := range msgs {
		roles = append(roles, m.(map[string]any)["role"].(string))
	}
	if strings.Join(roles, ",") != "system,user,assistant,user" {
		t.Errorf("roles = %v, want system prompt, the valid history, the new message", roles)
	}
	sys := msgs[0].(map[string]any)["content"].(string)
	for _, want := range []string{"You are the NOBA Ops Assistant for server", "## Fleet: 0 agents online, 0 offline", "## Active Alerts: 1",
		"- [critical] CPU high on web-01 (token ***) (rule: cpu_high)", "## Recent Incidents (1 in last 48h)", "(open)",
		"Valid command types: exec, restart_service"} {
		if !strings.Contains(sys, want) {
			t.Errorf("system prompt lacks %q:\n%s", want, sys)
		}
	}
	if body["model"] != "gpt-test" || body["max_tokens"] != 512.0 {
		t.Errorf("request: model %v max_tokens %v", body["model"], body["max_tokens"])
	}
	if fake.auth[len(fake.auth)-1] != "Bearer "+apiKey {
		t.Error("the provider did not get the API key in its header")
	}

	// Analyze an alert: found among the latest rows, else 404.
	var alertID int64
	if err := env.Server.DB.R.QueryRow(`SELECT id FROM alert_history WHERE rule_id = 'cpu_high'`).Scan(&alertID); err != nil {
		t.Fatal(err)
	}
	if code := env.JSON("POST", fmt.Sprintf("/api/ai/analyze-alert/%d", alertID), env.Token("operator"), nil, &out); code != 200 {
		t.Fatalf("analyze alert: %d", code)
	}
	_, raw = fake.last()
	if !strings.Contains(raw, "Rule: cpu_high") || !strings.Contains(raw, "Resolved: No") || strings.Contains(raw, piholeTok) {
		t.Errorf("alert prompt: %s", raw)
	}
	if code, b := env.Do("POST", "/api/ai/analyze-alert/99999", env.Token("operator"), nil); code != 404 || errMsg(b) != "Alert not found" {
		t.Errorf("missing alert: %d %s", code, b)
	}

	// Logs are truncated to 8000 characters.
	logs := strings.Repeat("x", 9000)
	if code := env.JSON("POST", "/api/ai/analyze-logs", env.Token("operator"), map[string]any{"logs": logs}, &out); code != 200 {
		t.Fatal(code)
	}
	_, raw = fake.last()
	if !strings.Contains(raw, strings.Repeat("x", 8000)+"\\n... (truncated)") || strings.Contains(raw, strings.Repeat("x", 8001)) {
		t.Error("logs not truncated to 8000 characters")
	}

	// Summarize an incident, with its war room.
	id := insertIncident(t, env, now, "warning", "Disk full on nas")
	env.JSON("POST", fmt.Sprintf("/api/incidents/%d/messages", id), env.Token("operator"), map[string]any{"message": "cleaned /var/log"}, nil)
	if code := env.JSON("POST", fmt.Sprintf("/api/ai/summarize-incident/%d", id), env.Token("operator"), nil, &out); code != 200 {
		t.Fatal(code)
	}
	_, raw = fake.last()
	if !strings.Contains(raw, "Title: Disk full on nas") || !strings.Contains(raw, "Status: Open") || !strings.Contains(raw, "cleaned /var/log") {
		t.Errorf("incident prompt: %s", raw)
	}
	if code, b := env.Do("POST", "/api/ai/summarize-incident/99999", env.Token("operator"), nil); code != 404 || errMsg(b) != "Incident not found" {
		t.Errorf("missing incident: %d %s", code, b)
	}

	// Connection test, then a failing provider.
	fake.reply = "  NOBA AI connection successful.\n"
	var tr map[string]any
	if code := env.JSON("POST", "/api/ai/test", env.Token("admin"), nil, &tr); code != 200 || tr["response"] != "NOBA AI connection successful." {
		t.Errorf("test: %d %v", code, tr)
	}
	fake.mu.Lock()
	fake.status = 500
	fake.mu.Unlock()
	if code, b := env.Do("POST", "/api/ai/test", env.Token("admin"), nil); code != 502 || errMsg(b) != "LLM connection test failed" {
		t.Errorf("test failing: %d %s", code, b)
	}
	if code, b := env.Do("POST", "/api/ai/chat", env.Token("operator"), map[string]any{"message": "hi"}); code != 502 || errMsg(b) != "LLM request failed" {
		t.Errorf("chat failing: %d %s", code, b)
	}
}
