package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/cluster"
)

// Replicas (issue 19): sessions live in the shared database, so a token
// issued by one replica is found by the others on first use; revocations
// and login decisions are sent to the other replicas, which drop the
// revoked sessions from memory and count the failures in their limiter,
// so that the lockouts hold whichever replica a client reaches.

type (
	revokeMsg struct {
		Hashes []string `json:"hashes"`
	}
	revokeUserMsg struct {
		Username string `json:"username"`
		Keep     string `json:"keep"`
	}
	totpMsg struct {
		Username string `json:"username"`
		Key      string `json:"key"`
	}
	wsTokenMsg struct {
		Hash     string `json:"hash"`
		Username string `json:"username"`
		Role     string `json:"role"`
		Expires  int64  `json:"expires"`
	}
	wsUsedMsg struct {
		Hash string `json:"hash"`
	}
	loginMsg struct {
		IP   string `json:"ip"`
		User string `json:"user"`
		OK   bool   `json:"ok"`
	}
)

var (
	chRevoke     = cluster.Channel[revokeMsg]{Name: "auth.revoke"}
	chRevokeUser = cluster.Channel[revokeUserMsg]{Name: "auth.revoke-user"}
	chLogin      = cluster.Channel[loginMsg]{Name: "auth.login"}
	chTOTP       = cluster.Channel[totpMsg]{Name: "auth.totp-used"}
	chWSToken    = cluster.Channel[wsTokenMsg]{Name: "auth.ws-token"}
	chWSUsed     = cluster.Channel[wsUsedMsg]{Name: "auth.ws-token-used"}
)

// remoteWSKey is the key of another replica's one-time WebSocket token in
// wsTokens: its hash (the token itself never leaves the replica that
// issued it).
func remoteWSKey(hash string) string { return "#" + hash }

// sessionFinder is the store's lookup of one live session.
type sessionFinder interface {
	SessionByHash(ctx context.Context, hash string, now int64) (Session, error)
}

func (r *Room) clustered() bool { return r.d.Cluster != nil && r.d.Cluster.Peers() }

func publishTo[T any](r *Room, ch cluster.Channel[T], v T) {
	if !r.clustered() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cluster.Send(ctx, r.d.Cluster, ch, v); err != nil {
		r.d.Log.Warn("replica message not sent", "channel", ch.Name, "err", err)
	}
}

// joinCluster subscribes to the other replicas' revocations and logins.
func (r *Room) joinCluster() {
	if !r.clustered() {
		return
	}
	b := r.d.Cluster
	cluster.Listen(b, chRevoke, r.d.Log, func(_ string, m revokeMsg) {
		r.mu.Lock()
		for _, h := range m.Hashes {
			delete(r.sessions, h)
		}
		r.mu.Unlock()
	})
	cluster.Listen(b, chRevokeUser, r.d.Log, func(_ string, m revokeUserMsg) {
		r.dropUserSessions(m.Username, m.Keep)
	})
	cluster.Listen(b, chTOTP, r.d.Log, func(_ string, m totpMsg) {
		r.totpMu.Lock()
		r.totpUsed[m.Username] = m.Key
		r.totpMu.Unlock()
	})
	cluster.Listen(b, chWSToken, r.d.Log, func(_ string, m wsTokenMsg) {
		role, ok := authz.ParseRole(m.Role)
		if !ok || m.Hash == "" {
			return
		}
		r.wsMu.Lock()
		r.wsTokens[remoteWSKey(m.Hash)] = wsToken{p: authz.Principal{Username: m.Username, Role: role, Kind: "ws"},
			expires: time.Unix(m.Expires, 0)}
		r.wsMu.Unlock()
	})
	cluster.Listen(b, chWSUsed, r.d.Log, func(_ string, m wsUsedMsg) {
		r.wsMu.Lock()
		delete(r.wsTokens, remoteWSKey(m.Hash))
		for t := range r.wsTokens {
			if !strings.HasPrefix(t, "#") && hashToken(t) == m.Hash {
				delete(r.wsTokens, t)
			}
		}
		r.wsMu.Unlock()
	})
	cluster.Listen(b, chLogin, r.d.Log, func(_ string, m loginMsg) {
		if m.OK {
			r.limiter.RemoteSucceed(m.IP, m.User)
		} else {
			r.limiter.RemoteFail(m.IP, m.User)
		}
	})
}

// sessionFromStore finds a session another replica issued.
func (r *Room) sessionFromStore(ctx context.Context, h string) (session, bool) {
	f, ok := r.d.Store.(sessionFinder)
	if !ok || !r.clustered() {
		return session{}, false
	}
	x, err := f.SessionByHash(ctx, h, r.d.Now().Unix())
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			r.d.Log.Warn("session lookup", "err", err)
		}
		return session{}, false
	}
	role, ok := authz.ParseRole(x.Role)
	if !ok {
		return session{}, false
	}
	s := session{username: x.Username, role: role, prefix: x.Prefix, expiresAt: time.Unix(x.ExpiresAt, 0),
		version: x.CredVersion, has2FA: x.Has2FA}
	r.mu.Lock()
	r.sessions[h] = s
	r.mu.Unlock()
	return s, true
}

// limiterFail and limiterSucceed decide a ticket and tell the other replicas.
func (r *Room) limiterFail(t *Ticket) {
	if t == nil || t.done {
		return
	}
	r.limiter.Fail(t)
	publishTo(r, chLogin, loginMsg{IP: t.ip, User: t.user})
}

func (r *Room) limiterSucceed(t *Ticket) {
	if t == nil || t.done {
		return
	}
	r.limiter.Succeed(t)
	publishTo(r, chLogin, loginMsg{IP: t.ip, User: t.user, OK: true})
}

// SessionByHash returns the live session of a token hash whose user and
// credential version are current, ErrNotFound otherwise.
func (s *sqlStore) SessionByHash(ctx context.Context, hash string, now int64) (Session, error) {
	var x Session
	err := s.db.R.QueryRowContext(ctx, `SELECT t.token_hash, t.prefix, t.username, t.role, t.created_at, t.expires_at, t.cred_version, u.totp_secret <> ''
		FROM tokens t JOIN users u ON u.username = t.username AND u.cred_version = t.cred_version AND u.role = t.role
		WHERE t.token_hash = ? AND t.kind = 'session' AND t.expires_at > ?`, hash, now).
		Scan(&x.Hash, &x.Prefix, &x.Username, &x.Role, &x.CreatedAt, &x.ExpiresAt, &x.CredVersion, &x.Has2FA)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	return x, nil
}
