package llm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// captured is what a fake provider received.
type captured struct {
	path    string
	headers http.Header
	body    map[string]any
}

// fakeProvider serves answer on every request and records the request.
func fakeProvider(t *testing.T, status int, answer string) (*httptest.Server, *captured) {
	t.Helper()
	c := &captured{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.path, c.headers = r.URL.Path, r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		c.body = map[string]any{}
		if err := json.Unmarshal(b, &c.body); err != nil {
			t.Errorf("provider got non-JSON body %q", b)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, c
}

var conv = Request{System: "be brief", Messages: []Message{{Role: "user", Content: "hi"}, {Role: "assistant", Content: "hello"}, {Role: "user", Content: "status?"}}}

func TestAnthropicMessagesAPI(t *testing.T) {
	srv, got := fakeProvider(t, 200, `{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"all good"},{"type":"tool_use","id":"x"},{"type":"text","text":"really"}],"stop_reason":"end_turn"}`)
	cfg := FromSettings(map[string]any{"llmEnabled": true, "llmProvider": "", "llmApiKey": "sk-ant-1", "llmBaseUrl": srv.URL + "/",
		"llmMaxTokens": 123, "llmTemperature": 0.7})
	text, err := (&Client{}).Complete(context.Background(), cfg, conv)
	if err != nil {
		t.Fatal(err)
	}
	if text != "all good\nreally" {
		t.Errorf("text = %q, want the text blocks joined by newline", text)
	}
	if got.path != "/v1/messages" {
		t.Errorf("path = %q, want /v1/messages", got.path)
	}
	if got.headers.Get("x-api-key") != "sk-ant-1" || got.headers.Get("anthropic-version") != "2023-06-01" ||
		!strings.HasPrefix(got.headers.Get("content-type"), "application/json") {
		t.Errorf("headers = %v", got.headers)
	}
	if got.headers.Get("Authorization") != "" {
		t.Errorf("anthropic request carries Authorization %q", got.headers.Get("Authorization"))
	}
	if got.body["model"] != AnthropicModel || got.body["max_tokens"] != 123.0 || got.body["temperature"] != 0.7 || got.body["system"] != "be brief" {
		t.Errorf("body = %v", got.body)
	}
	if msgs := got.body["messages"].([]any); len(msgs) != 3 || msgs[0].(map[string]any)["role"] != "user" {
		t.Errorf("messages = %v, want the 3 turns without a system message", msgs)
	}

	// An empty system prompt is omitted.
	if _, err := (&Client{}).Complete(context.Background(), cfg, Request{Messages: conv.Messages}); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.body["system"]; ok {
		t.Errorf("empty system sent: %v", got.body)
	}
}

func TestOpenAICompatibleAPI(t *testing.T) {
	srv, got := fakeProvider(t, 200, `{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"fine"},"finish_reason":"stop"}]}`)
	for _, tc := range []struct {
		provider, base, wantPath, wantModel string
	}{
		{"openai", srv.URL, "/v1/chat/completions", OpenAIModel},
		// A base URL ending in /v1 is not doubled (spec 30 §8.2).
		{"custom", srv.URL + "/v1", "/v1/chat/completions", OpenAIModel},
		{"LocalAI", srv.URL + "/proxy", "/proxy/v1/chat/completions", OpenAIModel},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			cfg := FromSettings(map[string]any{"llmProvider": tc.provider, "llmApiKey": "sk-oa", "llmBaseUrl": tc.base})
			text, err := (&Client{}).Complete(context.Background(), cfg, conv)
			if err != nil || text != "fine" {
				t.Fatalf("Complete = %q, %v", text, err)
			}
			if got.path != tc.wantPath {
				t.Errorf("path = %q, want %q", got.path, tc.wantPath)
			}
			if got.headers.Get("Authorization") != "Bearer sk-oa" {
				t.Errorf("Authorization = %q", got.headers.Get("Authorization"))
			}
			msgs := got.body["messages"].([]any)
			if len(msgs) != 4 || msgs[0].(map[string]any)["role"] != "system" || msgs[0].(map[string]any)["content"] != "be brief" {
				t.Errorf("messages = %v, want system first then the turns", msgs)
			}
			if got.body["model"] != tc.wantModel || got.body["max_tokens"] != 4096.0 || got.body["temperature"] != 0.3 {
				t.Errorf("body = %v", got.body)
			}
		})
	}
	// Without a key, no Authorization header is sent to a custom endpoint.
	cfg := FromSettings(map[string]any{"llmProvider": "custom", "llmBaseUrl": srv.URL})
	if _, err := (&Client{}).Complete(context.Background(), cfg, conv); err != nil {
		t.Fatal(err)
	}
	if h := got.headers.Get("Authorization"); h != "" {
		t.Errorf("Authorization without a key = %q", h)
	}
	// No choices: empty text.
	srv2, _ := fakeProvider(t, 200, `{"choices":[]}`)
	text, err := (&Client{}).Complete(context.Background(), FromSettings(map[string]any{"llmProvider": "openai", "llmApiKey": "k", "llmBaseUrl": srv2.URL}), conv)
	if err != nil || text != "" {
		t.Errorf("empty choices = %q, %v", text, err)
	}
}

func TestOllamaChatAPI(t *testing.T) {
	srv, got := fakeProvider(t, 200, `{"model":"llama3","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"local answer"},"done":true}`)
	cfg := FromSettings(map[string]any{"llmProvider": "Ollama", "llmBaseUrl": srv.URL, "llmMaxTokens": "256", "llmTemperature": ""})
	text, err := (&Client{}).Complete(context.Background(), cfg, conv)
	if err != nil || text != "local answer" {
		t.Fatalf("Complete = %q, %v", text, err)
	}
	if got.path != "/api/chat" {
		t.Errorf("path = %q", got.path)
	}
	if got.body["stream"] != false || got.body["model"] != OllamaModel {
		t.Errorf("body = %v", got.body)
	}
	opts := got.body["options"].(map[string]any)
	if opts["temperature"] != 0.3 || opts["num_predict"] != 256.0 {
		t.Errorf("options = %v, want temperature 0.3 (empty setting) and num_predict 256", opts)
	}
	if msgs := got.body["messages"].([]any); len(msgs) != 4 || msgs[0].(map[string]any)["role"] != "system" {
		t.Errorf("messages = %v", msgs)
	}
}

func TestErrors(t *testing.T) {
	bad, _ := fakeProvider(t, 401, `{"error":{"message":"invalid x-api-key"}}`)
	garbled, _ := fakeProvider(t, 200, `not json`)
	for _, tc := range []struct {
		name string
		set  map[string]any
		want error
		msg  string
	}{
		{"anthropic without key", map[string]any{"llmProvider": "anthropic"}, ErrNotConfigured, "Anthropic API key not configured"},
		{"openai without key", map[string]any{"llmProvider": "openai"}, ErrNotConfigured, "OpenAI API key not configured"},
		{"custom without base", map[string]any{"llmProvider": "custom", "llmApiKey": "k"}, ErrNotConfigured, "Custom LLM base URL not configured"},
		{"http 401", map[string]any{"llmProvider": "openai", "llmApiKey": "secret-key-1", "llmBaseUrl": bad.URL}, ErrUpstream, ""},
		{"malformed", map[string]any{"llmProvider": "anthropic", "llmApiKey": "secret-key-1", "llmBaseUrl": garbled.URL}, ErrUpstream, ""},
		{"unreachable", map[string]any{"llmProvider": "ollama", "llmBaseUrl": "http://127.0.0.1:1"}, ErrUpstream, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := (&Client{}).Complete(context.Background(), FromSettings(tc.set), conv)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("message = %q, want %q", err.Error(), tc.msg)
			}
			if strings.Contains(err.Error(), "secret-key-1") {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	for _, tc := range []struct{ provider, model, kind, want string }{
		{"", "", Anthropic, AnthropicModel},
		{"OpenAI", "", OpenAI, OpenAIModel},
		{"ollama", "", Ollama, OllamaModel},
		{"custom", "", Custom, OpenAIModel},
		{"groq", "", OpenAI, OpenAIModel},
		{"openai", "gpt-4.1-mini", OpenAI, "gpt-4.1-mini"},
	} {
		c := Config{Provider: tc.provider, Model: tc.model}
		if c.Kind() != tc.kind || c.EffectiveModel() != tc.want {
			t.Errorf("%q/%q: kind %q model %q, want %q %q", tc.provider, tc.model, c.Kind(), c.EffectiveModel(), tc.kind, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	req := Request{System: "key sk-live-abcdef and token abc", Messages: []Message{{Role: "user", Content: "my pass is hunter2hunter2 and sk-live-abcdef-long"}}}
	got := Redact(req, []string{"sk-live-abcdef", "sk-live-abcdef-long", "hunter2hunter2", "abc", ""})
	if strings.Contains(got.System, "sk-live") || strings.Contains(got.Messages[0].Content, "hunter2") || strings.Contains(got.Messages[0].Content, "sk-live") {
		t.Errorf("secrets remain: %+v", got)
	}
	if !strings.Contains(got.System, "token abc") {
		t.Errorf("a 3-character value was redacted: %q", got.System)
	}
	if req.Messages[0].Content == got.Messages[0].Content {
		t.Error("Redact changed nothing")
	}
}
