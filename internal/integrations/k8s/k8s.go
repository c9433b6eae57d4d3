// Package k8s reads a Kubernetes API server for the stats payload:
// GET /api/v1/pods with `Authorization: Bearer <k8sToken>` (a service
// account token allowed to list pods). k8sVerifySsl=false accepts a
// self-signed API certificate.
package k8s

import (
	"context"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Kubernetes integration (payload key "k8s").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "k8s".
func (p *Provider) Key() string { return "k8s" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether k8sUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("k8sUrl") != "" }

// Fetch returns {"pods","running","namespaces","status":"online"}; a
// missing k8sToken is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("k8sUrl"))
	if err != nil {
		return nil, err
	}
	token := st.String("k8sToken")
	if token == "" {
		return nil, fmt.Errorf("%w: k8sToken missing", provider.ErrUnauthorized)
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			Status struct {
				Phase string `json:"phase"`
			} `json:"status"`
		} `json:"items"`
	}
	err = p.c.JSON(ctx, provider.Request{URL: base + "/api/v1/pods", MaxBody: 32 << 20, Insecure: !st.Bool("k8sVerifySsl", true),
		Header: http.Header{"Authorization": {"Bearer " + token}}}, &list)
	if err != nil {
		return nil, err
	}
	running := 0
	ns := map[string]bool{}
	for _, it := range list.Items {
		if it.Status.Phase == "Running" {
			running++
		}
		ns[it.Metadata.Namespace] = true
	}
	return map[string]any{"pods": len(list.Items), "running": running, "namespaces": len(ns), "status": "online"}, nil
}
