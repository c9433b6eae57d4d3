package integrations

import (
	"context"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Instance is one enabled integration instance (router 10) the live stats
// poll: its platform, URL, credentials and TLS setting.
type Instance struct {
	ID, Platform, URL string
	Auth              map[string]any
	VerifySSL         bool
}

// InstanceSource lists the enabled instances with their credentials.
type InstanceSource func(ctx context.Context) ([]Instance, error)

// SetInstances makes Blocks poll the instances of src under "instances"
// (spec 30 §3.1: truenas, proxmox, pihole, adguard, plex, jellyfin,
// kuma/uptimekuma, unifi), each with its own URL and credentials.
func (r *Room) SetInstances(src InstanceSource) { r.instances = src }

// instancePlatforms maps a platform to the provider key that reads it and
// the settings keys its URL, credentials and TLS switch go to. Each
// credential key lists the auth_config keys it is read from, first found wins.
var instancePlatforms = map[string]struct {
	key, url, verify string
	creds            map[string][]string
}{
	"truenas": {"truenas", "truenasUrl", "", map[string][]string{"truenasKey": {"api_key", "apikey", "token"}}},
	"proxmox": {"proxmox", "proxmoxUrl", "proxmoxVerifySsl", map[string][]string{"proxmoxUser": {"user", "username"},
		"proxmoxTokenName": {"token_name", "tokenName"}, "proxmoxTokenValue": {"token_value", "tokenValue", "token"}}},
	"pihole":     {"pihole", "piholeUrl", "", map[string][]string{"piholePassword": {"password"}, "piholeToken": {"token", "api_key"}}},
	"adguard":    {"adguard", "adguardUrl", "", map[string][]string{"adguardUser": {"username", "user"}, "adguardPass": {"password"}}},
	"plex":       {"plex", "plexUrl", "", map[string][]string{"plexToken": {"token", "api_key"}}},
	"jellyfin":   {"jellyfin", "jellyfinUrl", "", map[string][]string{"jellyfinKey": {"api_key", "apikey", "token"}}},
	"kuma":       {"kuma", "kumaUrl", "", map[string][]string{"kumaKey": {"api_key", "apikey", "token"}}},
	"uptimekuma": {"kuma", "kumaUrl", "", map[string][]string{"kumaKey": {"api_key", "apikey", "token"}}},
	"unifi": {"unifi", "unifiUrl", "unifiVerifySsl", map[string][]string{"unifiUser": {"username", "user"},
		"unifiPass": {"password"}, "unifiSite": {"site"}}},
}

// instanceBlocks polls every supported instance with a URL concurrently
// and returns id -> block (the §4.4 objects on failure) within wait.
func (r *Room) instanceBlocks(ctx context.Context, wait time.Duration) map[string]any {
	out := map[string]any{}
	list, err := r.instances(ctx)
	if err != nil {
		r.log.Warn("list integration instances", "err", err)
		return out
	}
	byKey := map[string]provider.Provider{}
	for _, p := range r.providers {
		byKey[p.Key()] = p
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, in := range list {
		spec, ok := instancePlatforms[in.Platform]
		p := byKey[spec.key]
		if !ok || p == nil || in.URL == "" {
			continue
		}
		st := provider.Settings{spec.url: in.URL}
		for setting, keys := range spec.creds {
			for _, k := range keys {
				if v, ok := in.Auth[k].(string); ok && v != "" {
					st[setting] = v
					break
				}
			}
		}
		if spec.verify != "" {
			st[spec.verify] = in.VerifySSL
		}
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			block := provider.Blocks(ctx, []provider.Provider{p}, st, wait, func(_ string, err error) {
				r.report("instance:"+id, err)
			})[p.Key()]
			mu.Lock()
			out[id] = block
			mu.Unlock()
		}(in.ID)
	}
	wg.Wait()
	return out
}
