// Package llm talks to the language-model providers of the AI assistant
// (spec 30 §4.4): Anthropic's Messages API, OpenAI-compatible chat
// completions (OpenAI, custom endpoints, anything else) and Ollama's chat
// API. Requests are bounded in time and response size; no secret leaves
// through an error message.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Provider names.
const (
	Anthropic = "anthropic"
	OpenAI    = "openai"
	Ollama    = "ollama"
	Custom    = "custom"
)

// Default endpoints and models of each provider.
const (
	AnthropicURL   = "https://api.anthropic.com"
	OpenAIURL      = "https://api.openai.com"
	OllamaURL      = "http://localhost:11434"
	AnthropicModel = "claude-sonnet-4-20250514"
	OpenAIModel    = "gpt-4o"
	OllamaModel    = "llama3"
)

// maxResponse bounds how much of a provider's answer is read.
const maxResponse = 4 << 20

// Config is the assistant's configuration (settings llm*).
type Config struct {
	Enabled bool
	// Provider is the raw setting; Kind is what it resolves to.
	Provider    string
	Model       string
	APIKey      string
	BaseURL     string
	MaxTokens   int
	Temperature float64
}

// FromSettings reads the llm* keys of the flat settings.
func FromSettings(m map[string]any) Config {
	c := Config{
		Enabled:     truthy(m["llmEnabled"]),
		Provider:    str(m["llmProvider"]),
		Model:       str(m["llmModel"]),
		APIKey:      str(m["llmApiKey"]),
		BaseURL:     strings.TrimRight(strings.TrimSpace(str(m["llmBaseUrl"])), "/"),
		MaxTokens:   4096,
		Temperature: 0.3,
	}
	if n, ok := num(m["llmMaxTokens"]); ok && n >= 1 {
		c.MaxTokens = int(n)
	}
	if n, ok := num(m["llmTemperature"]); ok && n >= 0 {
		c.Temperature = n
	}
	return c
}

// Kind is the provider the configuration resolves to: anthropic when the
// setting is empty, openai/ollama/custom by name, and anything else
// speaks the OpenAI-compatible API.
func (c Config) Kind() string {
	p := strings.ToLower(strings.TrimSpace(c.Provider))
	switch p {
	case "", Anthropic:
		return Anthropic
	case Ollama, Custom, OpenAI:
		return p
	}
	return OpenAI
}

// EffectiveModel is the configured model or the provider's default.
func (c Config) EffectiveModel() string {
	if m := strings.TrimSpace(c.Model); m != "" {
		return m
	}
	switch c.Kind() {
	case Anthropic:
		return AnthropicModel
	case Ollama:
		return OllamaModel
	}
	return OpenAIModel
}

// Message is one turn of a conversation (role "user" or "assistant").
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is one completion request.
type Request struct {
	System   string
	Messages []Message
}

// ErrNotConfigured is a configuration the request cannot be sent with
// (no key, no base URL); its message tells the admin what to set.
var ErrNotConfigured = errors.New("llm not configured")

// ErrUpstream is a transport failure or an error answer of the provider.
var ErrUpstream = errors.New("llm request failed")

type cfgError struct{ msg string }

func (e *cfgError) Error() string { return e.msg }
func (e *cfgError) Unwrap() error { return ErrNotConfigured }

// Client sends requests to the configured provider.
type Client struct {
	// HTTP is the transport (http.DefaultTransport based when nil); its
	// Timeout is ignored in favour of the per-provider one.
	HTTP *http.Client
}

// Complete sends req and returns the provider's answer text.
func (cl *Client) Complete(ctx context.Context, c Config, req Request) (string, error) {
	var (
		url     string
		body    any
		headers = map[string]string{"Content-Type": "application/json"}
		timeout = 60 * time.Second
		extract func([]byte) (string, error)
	)
	model := c.EffectiveModel()
	switch c.Kind() {
	case Anthropic:
		if c.APIKey == "" {
			return "", &cfgError{"Anthropic API key not configured"}
		}
		base := c.BaseURL
		if base == "" {
			base = AnthropicURL
		}
		url = joinV1(base, "/messages")
		b := map[string]any{"model": model, "max_tokens": c.MaxTokens, "temperature": c.Temperature, "messages": nonNil(req.Messages)}
		if req.System != "" {
			b["system"] = req.System
		}
		body = b
		headers["x-api-key"] = c.APIKey
		headers["anthropic-version"] = "2023-06-01"
		extract = anthropicText
	case Ollama:
		base := c.BaseURL
		if base == "" {
			base = OllamaURL
		}
		url = base + "/api/chat"
		body = map[string]any{"model": model, "messages": withSystem(req), "stream": false,
			"options": map[string]any{"temperature": c.Temperature, "num_predict": c.MaxTokens}}
		timeout = 120 * time.Second
		extract = ollamaText
	default:
		base := c.BaseURL
		switch {
		case base == "" && c.Kind() == Custom:
			return "", &cfgError{"Custom LLM base URL not configured"}
		case base == "" && c.APIKey == "":
			return "", &cfgError{"OpenAI API key not configured"}
		case base == "":
			base = OpenAIURL
		}
		url = joinV1(base, "/chat/completions")
		body = map[string]any{"model": model, "max_tokens": c.MaxTokens, "temperature": c.Temperature, "messages": withSystem(req)}
		if c.APIKey != "" {
			headers["Authorization"] = "Bearer " + c.APIKey
		}
		extract = openAIText
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("encode llm request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("%w: invalid base URL", ErrUpstream)
	}
	for k, v := range headers {
		hr.Header.Set(k, v)
	}
	hc := cl.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	resp, err := hc.Do(hr)
	if err != nil {
		// The transport error names the URL only, never a header.
		return "", fmt.Errorf("%w: %s", ErrUpstream, scrubErr(err, c.APIKey))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", fmt.Errorf("%w: read answer: %s", ErrUpstream, scrubErr(err, c.APIKey))
	}
	if resp.StatusCode >= 400 {
		return "", fmt.Errorf("%w: provider answered HTTP %d", ErrUpstream, resp.StatusCode)
	}
	text, err := extract(data)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUpstream, err)
	}
	return text, nil
}

// joinV1 appends path below /v1, not doubling a base URL that already ends
// in /v1 (spec 30 §8.2).
func joinV1(base, path string) string {
	if strings.HasSuffix(base, "/v1") {
		return base + path
	}
	return base + "/v1" + path
}

func scrubErr(err error, key string) string {
	s := err.Error()
	if key != "" {
		s = strings.ReplaceAll(s, key, "***")
	}
	return s
}

func nonNil(m []Message) []Message {
	if m == nil {
		return []Message{}
	}
	return m
}

func withSystem(req Request) []Message {
	out := make([]Message, 0, len(req.Messages)+1)
	if req.System != "" {
		out = append(out, Message{Role: "system", Content: req.System})
	}
	return append(out, req.Messages...)
}

func anthropicText(b []byte) (string, error) {
	var r struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return "", errors.New("malformed Anthropic answer")
	}
	var parts []string
	for _, c := range r.Content {
		if c.Type == "text" {
			parts = append(parts, c.Text)
		}
	}
	return strings.Join(parts, "\n"), nil
}

func openAIText(b []byte) (string, error) {
	var r struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return "", errors.New("malformed chat completion answer")
	}
	if len(r.Choices) == 0 {
		return "", nil
	}
	return r.Choices[0].Message.Content, nil
}

func ollamaText(b []byte) (string, error) {
	var r struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return "", errors.New("malformed Ollama answer")
	}
	return r.Message.Content, nil
}

// Redact replaces every occurrence of each secret (values of at least 4
// characters) in the request's system prompt and messages by "***".
func Redact(req Request, secrets []string) Request {
	r := strings.NewReplacer(pairs(secrets)...)
	out := Request{System: r.Replace(req.System), Messages: make([]Message, len(req.Messages))}
	for i, m := range req.Messages {
		out.Messages[i] = Message{Role: m.Role, Content: r.Replace(m.Content)}
	}
	return out
}

func pairs(secrets []string) []string {
	sorted := slices.Clone(secrets)
	// longest first, so that a secret containing another is replaced whole
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	var out []string
	for _, s := range sorted {
		if len(strings.TrimSpace(s)) >= 4 {
			out = append(out, s, "***")
		}
	}
	return out
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "1", "true", "yes", "on":
			return true
		}
	case float64:
		return x != 0
	case int:
		return x != 0
	}
	return false
}
