package instances

import (
	"context"
	"log/slog"
	"time"

	"github.com/noba-go/noba/internal/jobs"
)

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Deps are what the room is built from.
type Deps struct {
	Store *Store
	Audit Auditor
	Log   *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// HealthEvery is the period of the health job (default 60 s).
	HealthEvery time.Duration
}

// Room is the integration instances room.
type Room struct{ d Deps }

// New builds the room.
func New(d Deps) *Room {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.HealthEvery <= 0 {
		d.HealthEvery = 60 * time.Second
	}
	return &Room{d: d}
}

// Jobs is the health job: every enabled instance with a URL is probed.
func (r *Room) Jobs() []jobs.Job {
	return []jobs.Job{jobs.Every("integration-instance-health", r.d.HealthEvery, r.CheckHealth)}
}

// CheckHealth probes every enabled instance with a URL (at most 4 at a
// time) and records online/offline with the error of a failure.
func (r *Room) CheckHealth(ctx context.Context) error {
	list, err := r.d.Store.List(ctx, Filter{})
	if err != nil {
		return err
	}
	sem := make(chan struct{}, 4)
	done := make(chan struct{}, len(list))
	n := 0
	for _, in := range list {
		if !in.Enabled || in.URL == "" {
			continue
		}
		n++
		go func(in Instance) {
			sem <- struct{}{}
			defer func() { <-sem; done <- struct{}{} }()
			_, _ = r.probeAndRecord(ctx, in)
		}(in)
	}
	for i := 0; i < n; i++ {
		<-done
	}
	return ctx.Err()
}

// probeAndRecord probes one instance and stores its health; it returns the probe's outcome.
func (r *Room) probeAndRecord(ctx context.Context, in Instance) (int, error) {
	code, err := Probe(ctx, in.URL, TLSOptions{VerifySSL: in.VerifySSL, CABundle: in.CABundle})
	status, text := "online", ""
	switch {
	case err != nil:
		status, text = "offline", err.Error()
	case code >= 500:
		status, text = "offline", "HTTP "+itoa(code)
	}
	if serr := r.d.Store.SetHealth(context.WithoutCancel(ctx), in.ID, status, text, r.d.Now().Unix()); serr != nil {
		r.d.Log.Warn("record instance health", "instance", in.ID, "err", serr)
	}
	return code, err
}

// Instance returns a stored instance with its credentials in the clear,
// for server-side consumers (the healing room's platform handlers, the
// collector); it never reaches a response. ErrNotFound when there is none.
func (r *Room) Instance(ctx context.Context, id string) (Instance, error) {
	return r.d.Store.Get(ctx, id)
}

// Enabled lists the enabled instances of a platform ("" for all), credentials in the clear.
func (r *Room) Enabled(ctx context.Context, platform string) ([]Instance, error) {
	list, err := r.d.Store.List(ctx, Filter{})
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, in := range list {
		if in.Enabled && (platform == "" || in.Platform == platform) {
			out = append(out, in)
		}
	}
	return out, nil
}
