package agents

import (
	"crypto/subtle"
	"net/http"
	"path"

	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

// principalKey is the result of an agent key check: which hostnames the
// presented key may speak for.
type principalKey struct {
	// host is "" for a bare key (any hostname) or the bound hostname pattern.
	host string
}

// allows reports whether the key may act as hostname.
func (p principalKey) allows(hostname string) bool {
	if p.host == "" {
		return true
	}
	if ok, _ := path.Match(p.host, hostname); ok {
		return true
	}
	return p.host == hostname
}

// matchKey compares presented against every configured key in constant
// time per key.
func (r *Room) matchKey(presented string) (principalKey, bool) {
	var found principalKey
	ok := false
	for _, k := range r.agentKeys() {
		if subtle.ConstantTimeCompare([]byte(presented), []byte(k.key)) == 1 && !ok {
			found, ok = principalKey{host: k.host}, true
		}
	}
	return found, ok
}

// agentKeyOf reads the key of an agent request: the X-Agent-Key header,
// else (only where allowed for compatibility) the key query value.
func agentKeyOf(req *http.Request, allowQuery bool) string {
	if k := req.Header.Get(wire.HeaderAgentKey); k != "" {
		return k
	}
	if allowQuery {
		return req.URL.Query().Get("key")
	}
	return ""
}

// keyError is the answer to a failed key check.
type keyError struct {
	status int
	msg    string
	// retry, for 429, is the Retry-After value.
	retry string
}

// write answers the failed check.
func (e *keyError) write(w http.ResponseWriter) {
	if e.retry != "" {
		w.Header().Set("Retry-After", e.retry)
	}
	httpx.WriteError(w, e.status, e.msg)
}

// checkKey authenticates an agent request. missingMsg is the endpoint's
// message for a missing key (spec 20 §2); sameStatus answers 401 for a
// wrong key too (file endpoints).
func (r *Room) checkKey(req *http.Request, allowQuery bool, missingMsg string, sameStatus bool) (principalKey, *keyError) {
	k := agentKeyOf(req, allowQuery)
	if k == "" {
		return principalKey{}, &keyError{status: http.StatusUnauthorized, msg: missingMsg}
	}
	// Wrong keys are limited per address (keyguard.go); a valid key
	// gives its token back.
	giveBack, wait, allowed := r.guard.take(req, r.now())
	if !allowed {
		return principalKey{}, &keyError{http.StatusTooManyRequests, "Too many invalid agent keys from this address; retry later", retryAfter(wait)}
	}
	p, ok := r.matchKey(k)
	if ok {
		giveBack()
	}
	if !ok {
		if sameStatus {
			return principalKey{}, &keyError{status: http.StatusUnauthorized, msg: "Invalid agent key"}
		}
		return principalKey{}, &keyError{status: http.StatusForbidden, msg: "Invalid agent key"}
	}
	return p, nil
}
