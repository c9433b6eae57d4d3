package integrations

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/integrations/adguard"
	"github.com/noba-go/noba/internal/integrations/authentik"
	"github.com/noba-go/noba/internal/integrations/bazarr"
	"github.com/noba-go/noba/internal/integrations/certexpiry"
	"github.com/noba-go/noba/internal/integrations/cloudflare"
	"github.com/noba-go/noba/internal/integrations/domainexpiry"
	"github.com/noba-go/noba/internal/integrations/energy"
	"github.com/noba-go/noba/internal/integrations/esphome"
	"github.com/noba-go/noba/internal/integrations/frigate"
	"github.com/noba-go/noba/internal/integrations/gitea"
	"github.com/noba-go/noba/internal/integrations/github"
	"github.com/noba-go/noba/internal/integrations/gitlab"
	"github.com/noba-go/noba/internal/integrations/hass"
	"github.com/noba-go/noba/internal/integrations/homebridge"
	"github.com/noba-go/noba/internal/integrations/jellyfin"
	"github.com/noba-go/noba/internal/integrations/k8s"
	"github.com/noba-go/noba/internal/integrations/kuma"
	"github.com/noba-go/noba/internal/integrations/n8n"
	"github.com/noba-go/noba/internal/integrations/nextcloud"
	"github.com/noba-go/noba/internal/integrations/npm"
	"github.com/noba-go/noba/internal/integrations/omv"
	"github.com/noba-go/noba/internal/integrations/overseerr"
	"github.com/noba-go/noba/internal/integrations/paperless"
	"github.com/noba-go/noba/internal/integrations/pihole"
	"github.com/noba-go/noba/internal/integrations/pikvm"
	"github.com/noba-go/noba/internal/integrations/plex"
	"github.com/noba-go/noba/internal/integrations/presence"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/proxmox"
	"github.com/noba-go/noba/internal/integrations/qbit"
	"github.com/noba-go/noba/internal/integrations/rclone"
	"github.com/noba-go/noba/internal/integrations/scrutiny"
	"github.com/noba-go/noba/internal/integrations/servarr"
	"github.com/noba-go/noba/internal/integrations/speedtest"
	"github.com/noba-go/noba/internal/integrations/tailscale"
	"github.com/noba-go/noba/internal/integrations/tautulli"
	"github.com/noba-go/noba/internal/integrations/traefik"
	"github.com/noba-go/noba/internal/integrations/truenas"
	"github.com/noba-go/noba/internal/integrations/unifi"
	"github.com/noba-go/noba/internal/integrations/unifiprotect"
	"github.com/noba-go/noba/internal/integrations/vaultwarden"
	"github.com/noba-go/noba/internal/integrations/vpn"
	"github.com/noba-go/noba/internal/integrations/weather"
	"github.com/noba-go/noba/internal/integrations/xcpng"
	"github.com/noba-go/noba/internal/integrations/z2m"
)

// DefaultWait is the global wait of one fan-out (spec 10 §4.1: 4.5 s).
const DefaultWait = 4500 * time.Millisecond

// Settings is the typed settings snapshot every room reads; the room
// hands its flat view (secrets decrypted, server-side only, shared by
// every reader and never modified) to the providers without a copy.
type Settings = config.Reader

// Deps are the room's dependencies.
type Deps struct {
	Settings Settings
	Log      *slog.Logger
	// Wait bounds one fan-out (default DefaultWait).
	Wait time.Duration
	// Providers replaces the built-in providers (nil: all of them).
	Providers []provider.Provider
	// Audit records the audit rows of router 9's actions (nil: none).
	Audit Auditor
	// Rclone runs rclone for the cloud remotes (nil: "rclone" with its own config).
	Rclone *rclone.Client
	// TailscaleBin is the tailscale binary of /api/tailscale/status (default "tailscale").
	TailscaleBin string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Room is the integrations room.
type Room struct {
	settings  Settings
	log       *slog.Logger
	wait      time.Duration
	providers []provider.Provider

	mu   sync.Mutex
	last map[string]string // key -> last outcome class, to log changes only

	// router 9
	client    *provider.Client
	audit     Auditor
	rclone    *rclone.Client
	tailscale *tailscale.StatusReader
	now       func() time.Time
	scrutiny  provider.Cache // disk intelligence, 300 s
	// instances of router 10 polled into "instances" (nil: not wired)
	instances InstanceSource

	// rclone listremotes, kept 10 s
	remotesMu   sync.Mutex
	remotesList []Remote
	remotesAt   time.Time
}

// New builds the room.
func New(d Deps) *Room {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Wait <= 0 {
		d.Wait = DefaultWait
	}
	client := provider.NewClient()
	if d.Providers == nil {
		d.Providers = Builtin(client)
	}
	if d.Rclone == nil {
		d.Rclone = &rclone.Client{}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Room{settings: d.Settings, log: d.Log, wait: d.Wait, providers: d.Providers, last: map[string]string{},
		client: client, audit: d.Audit, rclone: d.Rclone, tailscale: &tailscale.StatusReader{Bin: d.TailscaleBin},
		now: d.Now, scrutiny: provider.Cache{TTL: 300 * time.Second}}
}

// SetAuditor sets where router 9 records its audit rows (the server wires it).
func (r *Room) SetAuditor(a Auditor) { r.audit = a }

// Builtin returns every built-in provider on client c.
func Builtin(c *provider.Client) []provider.Provider {
	return []provider.Provider{pihole.New(c), plex.New(c), truenas.New(c), kuma.New(c), adguard.New(c),
		jellyfin.New(c), hass.New(c), speedtest.New(c), proxmox.New(c), tautulli.New(c), overseerr.New(c),
		servarr.Radarr(c), servarr.Sonarr(c), servarr.Lidarr(c), servarr.Readarr(c), servarr.Prowlarr(c), qbit.New(c),
		traefik.New(c), npm.New(c), k8s.New(c), gitea.New(c), gitlab.New(c), paperless.New(c),
		unifi.New(c), nextcloud.New(c), scrutiny.New(c), frigate.New(c),
		servarr.RadarrExtended(c), servarr.SonarrExtended(c), servarr.RadarrCalendar(c), servarr.SonarrCalendar(c),
		authentik.New(c), n8n.New(c), bazarr.New(c), energy.New(c),
		omv.New(c), xcpng.New(c), homebridge.New(c), z2m.New(c), esphome.New(c), unifiprotect.New(c), pikvm.New(c),
		vaultwarden.New(c), github.New(c), cloudflare.New(c), weather.New(c),
		certexpiry.New(c), presence.New(c), domainexpiry.New(c), vpn.New(c), tailscale.New(c)}
}

// Blocks asks every configured integration concurrently and returns one
// block per provider key within the room's wait: the product's figures,
// null / [] when not configured, or the §4.4 timeout / unauthorized /
// offline object. The stats room calls it once per collection.
func (r *Room) Blocks(ctx context.Context) map[string]any {
	var st provider.Settings
	if r.settings != nil {
		st = r.settings.View()
	}
	if r.instances == nil {
		return provider.Blocks(ctx, r.providers, st, r.wait, r.report)
	}
	// the instances of router 10 are polled beside the settings-based providers, within the same wait
	var inst map[string]any
	done := make(chan struct{})
	go func() {
		defer close(done)
		inst = r.instanceBlocks(ctx, r.wait)
	}()
	out := provider.Blocks(ctx, r.providers, st, r.wait, r.report)
	<-done
	out["instances"] = inst
	return out
}

// report logs an integration's outcome when it changes (not every 5 s).
func (r *Room) report(key string, err error) {
	class := "ok"
	if err != nil {
		class = provider.Class(err)
	}
	r.mu.Lock()
	prev, seen := r.last[key]
	r.last[key] = class
	r.mu.Unlock()
	if seen && prev == class {
		return
	}
	if err != nil {
		r.log.Warn("integration failing", "integration", key, "class", class, "err", err)
	} else if seen {
		r.log.Info("integration recovered", "integration", key)
	}
}
