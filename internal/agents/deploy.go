package agents

import (
	"context"
	"regexp"
	"strings"

	"github.com/noba-go/noba/internal/httpx"
)

type deployIn struct {
	Body struct {
		Host     string `json:"host"`
		SSHUser  string `json:"ssh_user"`
		SSHPass  string `json:"ssh_pass"`
		SSHPort  any    `json:"ssh_port"`
		SSHKey   string `json:"ssh_key"`
		Server   string `json:"server_url"`
		TrustKey bool   `json:"trust_host_key"`
	}
}

type deployOut struct{ Body map[string]any }

var (
	deployHostRE = regexp.MustCompile(`^[a-zA-Z0-9._:-]+$`)
	deployUserRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
)

// deploy serves POST /api/agents/deploy (spec 20 §12.3).
func (r *Room) deploy(ctx context.Context, in *deployIn) (*deployOut, error) {
	b := in.Body
	host, user := strings.TrimSpace(b.Host), strings.TrimSpace(b.SSHUser)
	if host == "" || user == "" {
		return nil, httpx.Invalid("host and ssh_user are required")
	}
	if !deployHostRE.MatchString(host) || len(host) > 253 {
		return nil, httpx.Invalid("Invalid hostname")
	}
	if !deployUserRE.MatchString(user) || len(user) > 64 {
		return nil, httpx.Invalid("Invalid ssh_user")
	}
	if r.firstKey() == "" {
		return nil, httpx.Invalid("No agent keys configured. Set agentKeys in settings first.")
	}
	return nil, httpx.Unavailable("SSH deploy is not available yet")
}
