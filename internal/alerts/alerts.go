package alerts

import (
	"github.com/noba-go/noba/internal/wire"

	"context"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noba-go/noba/internal/alerts/notify"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/wire/condition"
)

// TopicAlert carries alert transitions on the bus (Data: map[string]any
// with event "firing"|"resolved", rule_id, source, severity, message,
// timestamp) for rooms that react to alerts.
const TopicAlert = "alerts.event"

// Auditor records audit entries (the admin room's auditor).
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Healer receives heal events of firing rules with an action and of
// critical built-in alerts (the healing room's pipeline). Optional.
type Healer interface {
	HandleAlertEvent(ctx context.Context, ev map[string]any)
}

// Settings is what the room needs of config.yaml: the read side every
// room receives, and the masked view and writes of the alert rules.
type Settings interface {
	config.Reader
	Masked() map[string]any
	Update(partial map[string]any) ([]config.Change, error)
}

// Deps are what the alerts room is built from.
type Deps struct {
	Store    Store
	Settings Settings
	Bus      *events.Bus
	Audit    Auditor
	Log      *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Heal is the healing seam (nil until the healing room is wired).
	Heal Healer
	// Sender sends notifications (a default bounded sender when nil).
	Sender *notify.Sender
}

// Room is the alerts room.
type Room struct {
	d    Deps
	disp *notify.Dispatcher

	rulesMu sync.Mutex // serialises rule writes (read-modify-write of alertRules)

	mu        sync.Mutex
	loaded    bool
	rules     map[string]*ruleState
	ext       map[string]*extAlert
	builtin   []map[string]any
	lastNote  map[string]time.Time // built-in and external notification cooldowns
	lastFlat  map[string]float64
	lastSnap  map[string]any
	agents    map[string]agentMetrics
	condCache map[string]*condition.Condition

	// heal is the healing seam set after construction (SetHealer).
	heal atomic.Pointer[healerRef]
}

type healerRef struct{ h Healer }

// SetHealer connects the healing pipeline (wired after this room is
// built); it replaces Deps.Heal.
func (r *Room) SetHealer(h Healer) { r.heal.Store(&healerRef{h}) }

// healer is the healing seam (nil when none is wired).
func (r *Room) healer() Healer {
	if p := r.heal.Load(); p != nil {
		return p.h
	}
	return r.d.Heal
}

type ruleState struct {
	firing       bool
	start        int64
	severity     string
	message      string
	lastNotified time.Time
	notified     bool // this episode's firing was notified
	channels     []string
	escSent      map[int]bool
}

type extAlert struct {
	source, key, severity, message string
	since                          int64
}

// agentMetrics is the latest report of one agent, read in place by
// conditions naming `agent_<host>.<metric>`.
type agentMetrics struct {
	at time.Time
	m  *wire.Metrics
}

// New builds the alerts room.
func New(d Deps) *Room {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Sender == nil {
		d.Sender = &notify.Sender{}
	}
	r := &Room{d: d, rules: map[string]*ruleState{}, ext: map[string]*extAlert{}, lastNote: map[string]time.Time{},
		lastFlat: map[string]float64{}, agents: map[string]agentMetrics{}, condCache: map[string]*condition.Condition{}}
	r.disp = notify.NewDispatcher(d.Sender, d.Settings.View, d.Log)
	return r
}

// Active lists the active alerts for the `alerts` of the stats payload:
// built-in threshold alerts, firing rules and external alerts, each
// {level, severity, msg, rule_id, source, since}.
func (r *Room) Active() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]map[string]any, 0, len(r.builtin)+len(r.rules)+len(r.ext))
	for _, b := range r.builtin {
		c := make(map[string]any, len(b))
		for k, v := range b {
			c[k] = v
		}
		out = append(out, c)
	}
	ids := make([]string, 0, len(r.rules))
	for id, st := range r.rules {
		if st.firing {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		st := r.rules[id]
		out = append(out, map[string]any{"level": st.severity, "severity": st.severity, "msg": st.message,
			"rule_id": id, "source": "rule", "since": st.start})
	}
	keys := make([]string, 0, len(r.ext))
	for k := range r.ext {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e := r.ext[k]
		out = append(out, map[string]any{"level": e.severity, "severity": e.severity, "msg": e.message,
			"rule_id": k, "source": e.source, "since": e.since})
	}
	return out
}

// ensureLoadedLocked reloads open episodes after a restart, so they resolve
// when their condition clears.
func (r *Room) ensureLoadedLocked(ctx context.Context) {
	if r.loaded {
		return
	}
	rows, err := r.d.Store.OpenEpisodes(ctx)
	if err != nil {
		r.d.Log.Warn("open alert episodes unreadable", "err", err)
		return
	}
	r.loaded = true
	for _, h := range rows {
		if h.Source == "rule" {
			r.rules[h.RuleID] = &ruleState{firing: true, start: h.Timestamp, severity: h.Severity, message: h.Message,
				lastNotified: time.Unix(h.Timestamp, 0), notified: true, escSent: map[int]bool{}}
			continue
		}
		source, key := h.Source, h.RuleID[min(len(h.Source)+1, len(h.RuleID)):]
		r.ext[h.RuleID] = &extAlert{source: source, key: key, severity: h.Severity, message: h.Message, since: h.Timestamp}
	}
}

// RaiseExternal opens an alert episode for source:key unless one is open
// (then it updates it), records alert_history and an incident, and
// notifies every enabled channel (cooldown 300 s per key; suppressed
// during maintenance windows).
func (r *Room) RaiseExternal(ctx context.Context, source, key, severity, message string) error {
	if !oneOf(severity, severities) {
		severity = "warning"
	}
	now := r.d.Now()
	id := source + ":" + key
	mt := r.maintenanceAt(ctx, now, nil)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ensureLoadedLocked(ctx)
	e := r.ext[id]
	if e == nil {
		_, err := r.d.Store.OpenEpisode(ctx, id, source, now.Unix(), severity, message,
			&Incident{Severity: severity, Source: source, Title: message, Details: key, Resolved: mt.close})
		if err != nil {
			return err
		}
		e = &extAlert{source: source, key: key, since: now.Unix()}
		r.ext[id] = e
		r.publish("firing", id, source, severity, message, now)
	}
	e.severity, e.message = severity, message
	if mt.suppress {
		return nil
	}
	if last, ok := r.lastNote["ext:"+id]; ok && now.Sub(last) < DefaultCooldown*time.Second {
		return nil
	}
	r.lastNote["ext:"+id] = now
	r.notifyLocked(ctx, nil, notify.Message{Level: severity, Text: message, Event: "firing", RuleID: id, Timestamp: now.Unix()}, true)
	return nil
}

// ResolveExternal closes the open episode of source:key (if any) and
// sends a resolved notice when the firing was notified.
func (r *Room) ResolveExternal(ctx context.Context, source, key string) error {
	now := r.d.Now()
	id := source + ":" + key
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ensureLoadedLocked(ctx)
	e := r.ext[id]
	if err := r.d.Store.ResolveEpisodes(ctx, id, now.Unix()); err != nil {
		return err
	}
	if e == nil {
		return nil
	}
	delete(r.ext, id)
	r.publish("resolved", id, source, e.severity, e.message, now)
	if _, notified := r.lastNote["ext:"+id]; notified {
		mt := r.maintenanceAt(ctx, now, nil)
		if !mt.suppress {
			r.notifyLocked(ctx, nil, notify.Message{Level: "info", Text: "[RESOLVED] " + e.message, Event: "resolved", RuleID: id, Timestamp: now.Unix()}, true)
		}
	}
	return nil
}

// AddNotification adds an in-app notification for username ("" = every
// user).
func (r *Room) AddNotification(ctx context.Context, username, level, title, message string) error {
	_, err := r.d.Store.AddNotification(ctx, r.d.Now().Unix(), username, level, title, message)
	return err
}

// notifyLocked queues a channel notification and, when inApp, adds a
// broadcast in-app notification.
func (r *Room) notifyLocked(ctx context.Context, channels []string, m notify.Message, inApp bool) {
	r.disp.Enqueue(channels, m)
	if !inApp {
		return
	}
	title := "Alert: " + m.RuleID
	if m.Event == "resolved" {
		title = "Resolved: " + m.RuleID
	}
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := r.d.Store.AddNotification(c, m.Timestamp, "", m.Level, title, m.Text); err != nil {
		r.d.Log.Warn("in-app notification failed", "err", err)
	}
}

func (r *Room) publish(event, id, source, severity, message string, now time.Time) {
	if r.d.Bus == nil {
		return
	}
	r.d.Bus.Publish(TopicAlert, map[string]any{"event": event, "rule_id": id, "source": source, "severity": severity,
		"message": message, "timestamp": now.Unix()})
}

// EpisodesSince lists up to limit alert episodes (rules, external alerts)
// that started at or after since, newest first — for rooms that summarise
// downtime (the agents room's SLA summary takes them through an adapter).
func (r *Room) EpisodesSince(ctx context.Context, since int64, limit int) ([]AlertRecord, error) {
	return r.d.Store.History(ctx, HistoryQuery{Limit: max(limit, 1), From: max(since, 1)})
}
