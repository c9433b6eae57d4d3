// Package nextcloud reads a Nextcloud server for the stats payload
// through the serverinfo app's OCS API:
// GET /ocs/v2.php/apps/serverinfo/api/v1/info?format=json with HTTP basic
// auth (an admin nextcloudUser / app password nextcloudPass) and the
// OCS-APIRequest header.
package nextcloud

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Nextcloud integration (payload key "nextcloud").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "nextcloud".
func (p *Provider) Key() string { return "nextcloud" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether nextcloudUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("nextcloudUrl") != "" }

// Fetch returns {"active_users" (last 5 min),"num_users","num_files",
// "storage_free_gb","version","status":"online"}; a missing nextcloudUser
// is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("nextcloudUrl"))
	if err != nil {
		return nil, err
	}
	user := st.String("nextcloudUser")
	if user == "" {
		return nil, fmt.Errorf("%w: nextcloudUser missing", provider.ErrUnauthorized)
	}
	h := http.Header{"OCS-APIRequest": {"true"},
		"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+st.String("nextcloudPass")))}}
	var out struct {
		OCS struct {
			Data struct {
				Nextcloud struct {
					System struct {
						Version   string      `json:"version"`
						FreeSpace json.Number `json:"freespace"`
					} `json:"system"`
					Storage struct {
						NumUsers json.Number `json:"num_users"`
						NumFiles json.Number `json:"num_files"`
					} `json:"storage"`
				} `json:"nextcloud"`
				ActiveUsers struct {
					Last5Minutes json.Number `json:"last5minutes"`
				} `json:"activeUsers"`
			} `json:"data"`
		} `json:"ocs"`
	}
	err = p.c.JSON(ctx, provider.Request{URL: base + "/ocs/v2.php/apps/serverinfo/api/v1/info?format=json", Header: h}, &out)
	if err != nil {
		return nil, err
	}
	d := out.OCS.Data
	free, _ := d.Nextcloud.System.FreeSpace.Float64()
	return map[string]any{"active_users": num(d.ActiveUsers.Last5Minutes), "num_users": num(d.Nextcloud.Storage.NumUsers),
		"num_files": num(d.Nextcloud.Storage.NumFiles), "storage_free_gb": provider.Round1(free / (1 << 30)),
		"version": d.Nextcloud.System.Version, "status": "online"}, nil
}

func num(n json.Number) int64 {
	f, _ := n.Float64()
	return int64(f)
}
