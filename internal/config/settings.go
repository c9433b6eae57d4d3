package config

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/fernet/fernet-go"
	"go.yaml.in/yaml/v3"
)

// Mask is what a secret's value reads as in every answer.
const Mask = "***"

// encPrefix marks a value encrypted at rest.
const encPrefix = "ENC:"

// MaxRestore caps an uploaded config.yaml.
const MaxRestore = 512 << 10

// keepBackups is how many config.yaml.bak.<unix> files are kept.
const keepBackups = 5

// ErrInvalid wraps a settings validation error whose text a user can act on.
var ErrInvalid = errors.New("invalid settings")

// ErrTooLarge is an upload over MaxRestore.
var ErrTooLarge = errors.New("too large")

// Change is one settings change, for the changelog; secrets read "***".
type Change struct {
	Key string `json:"key"`
	Old string `json:"old"`
	New string `json:"new"`
}

// FileVersion is one stored version of config.yaml.
type FileVersion struct {
	Timestamp int64  `json:"timestamp"`
	ISO       string `json:"iso"`
	Size      int64  `json:"size"`
	Filename  string `json:"filename"`
	Current   bool   `json:"current,omitempty"`
}

// Reader is the read side of the settings every room receives (its Deps
// field Settings): the typed Values, and the flat dict of spec 10 §3.1
// for what Values does not name. Reads cost an atomic load: the file is
// decoded (and its secrets decrypted) once per change. It has no Get: a
// deep copy of the whole dict per read is what the rooms moved off
// (*Settings.Get remains for the admin room's writes).
type Reader interface {
	// Current returns the typed settings in force (read-only).
	Current() *Values
	// String returns one flat key as a string ("" when absent or not a string).
	String(key string) string
	// Value returns a copy of one flat key's value.
	Value(key string) any
	// View returns the flat settings dict in force without copying it:
	// shared by every reader, it must never be modified (use Get for a
	// copy to change).
	View() map[string]any
}

// Option configures OpenSettings.
type Option func(*Settings)

// WithLog sets the logger of file problems (an empty or unreadable config.yaml).
func WithLog(l *slog.Logger) Option { return func(st *Settings) { st.log = l } }

// recheck is how often a read looks at config.yaml for a change made by
// hand (writes through the API take effect at once).
const recheck = time.Second

// snapshot is one decoded version of config.yaml.
type snapshot struct {
	flat map[string]any // the flat dict, secrets decrypted
	vals *Values
}

// Settings is config.yaml: the flat settings dict of spec 10 §3 over a
// YAML file that is written atomically (temp file, fsync, rename) after a
// rotating backup. Secret values are encrypted at rest with the master key.
// The decoded file is held behind an atomic pointer, replaced when the
// file changes.
type Settings struct {
	path    string
	keyPath string
	log     *slog.Logger

	cur     atomic.Pointer[snapshot]
	checked atomic.Int64 // unix nanos of the last look at the file

	mu      sync.Mutex
	doc     map[string]any
	modTime time.Time
	size    int64
	key     *fernet.Key
	warned  time.Time // modTime of the last file problem logged

	// beforeRename, when set (tests), runs after the temp file is written
	// and before it replaces config.yaml; an error aborts the write.
	beforeRename func(tmp string) error
}

// OpenSettings opens the settings file at path, with the master key kept
// at keyPath (created on first use). A missing file reads as defaults; an
// empty one too, with an error logged (it is usually a failed edit, and
// the backups hold the last good version). Temp files a crash left beside
// config.yaml are removed.
func OpenSettings(path, keyPath string, opts ...Option) (*Settings, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("settings dir: %w", err)
	}
	st := &Settings{path: path, keyPath: keyPath, log: slog.Default()}
	for _, o := range opts {
		o(st)
	}
	st.removeStaleTemps()
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.reloadLocked(); err != nil {
		return nil, err
	}
	return st, nil
}

// removeStaleTemps deletes the temp files of interrupted writes (of
// config.yaml, its backups and snapshots, and the master key).
func (st *Settings) removeStaleTemps() {
	for _, pat := range []string{
		filepath.Join(filepath.Dir(st.path), "."+filepath.Base(st.path)+"*.tmp-*"),
		filepath.Join(filepath.Dir(st.keyPath), "."+filepath.Base(st.keyPath)+".tmp-*"),
	} {
		ms, _ := filepath.Glob(pat)
		for _, m := range ms {
			if err := os.Remove(m); err == nil {
				st.log.Warn("removed a temp file left by an interrupted write", "file", m)
			}
		}
	}
}

// load returns the snapshot in force, looking at the file for a change
// at most once per recheck.
func (st *Settings) load() *snapshot {
	s := st.cur.Load()
	now := time.Now().UnixNano()
	if s != nil && now-st.checked.Load() < int64(recheck) {
		return s
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.reloadLocked(); err != nil {
		st.warnLocked("config.yaml cannot be read; the last good version stays in force", err)
	}
	st.checked.Store(now)
	return st.cur.Load()
}

// warnLocked logs a file problem once per version of the file.
func (st *Settings) warnLocked(msg string, err error) {
	fi, serr := os.Stat(st.path)
	if serr == nil && fi.ModTime().Equal(st.warned) {
		return
	}
	if serr == nil {
		st.warned = fi.ModTime()
	}
	st.log.Error(msg, "file", st.path, "err", err)
}

// Path is the file's path.
func (st *Settings) Path() string { return st.path }

// SetBeforeRename installs a hook run between writing the temp file and the
// rename (tests use it to interrupt a write).
func (st *Settings) SetBeforeRename(f func(tmp string) error) {
	st.mu.Lock()
	st.beforeRename = f
	st.mu.Unlock()
}

func (st *Settings) reloadLocked() error {
	fi, err := os.Stat(st.path)
	if errors.Is(err, os.ErrNotExist) {
		if st.doc == nil || st.size != 0 || !st.modTime.IsZero() || st.cur.Load() == nil {
			st.doc = map[string]any{}
			st.modTime, st.size = time.Time{}, 0
			st.publishLocked()
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat settings: %w", err)
	}
	if st.doc != nil && fi.ModTime().Equal(st.modTime) && fi.Size() == st.size {
		return nil
	}
	raw, err := os.ReadFile(st.path)
	if err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 && !fi.ModTime().Equal(st.warned) {
		st.warned = fi.ModTime()
		st.log.Error("config.yaml is empty: every setting reads as its default until it is restored "+
			"(Settings > Config history lists the backups config.yaml.bak.*; saving keeps the last good ones)",
			"file", st.path, "backups", len(st.backupsLocked()))
	}
	doc := map[string]any{}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		// Keep serving the last good document rather than failing every reader.
		if st.doc == nil {
			st.doc = map[string]any{}
		}
		if st.cur.Load() == nil {
			st.publishLocked()
		}
		return fmt.Errorf("parse %s: %w", st.path, err)
	}
	if doc == nil {
		doc = map[string]any{}
	}
	st.doc = normalize(doc).(map[string]any)
	st.modTime, st.size = fi.ModTime(), fi.Size()
	st.publishLocked()
	return nil
}

// publishLocked decodes the document once (secrets decrypted, typed
// Values) and puts it in force for every reader.
func (st *Settings) publishLocked() {
	flat := st.flatLocked()
	st.cur.Store(&snapshot{flat: flat, vals: decodeValues(flat)})
	st.checked.Store(time.Now().UnixNano())
}

// normalize turns yaml's map[any]any (never produced by v3 for string keys,
// but possible for odd keys) into map[string]any throughout.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalize(x)
		}
		return t
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[fmt.Sprint(k)] = normalize(x)
		}
		return out
	case []any:
		for i := range t {
			t[i] = normalize(t[i])
		}
		return t
	}
	return v
}

// MasterKey returns a copy of the master key (created on first use), for
// the other secrets at rest sealed with it (spec 10 §13 S13: the TOTP
// secrets in the users table).
func (st *Settings) MasterKey() (*fernet.Key, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k, err := st.masterKey()
	if err != nil {
		return nil, err
	}
	c := *k
	return &c, nil
}

func (st *Settings) masterKey() (*fernet.Key, error) {
	if st.key != nil {
		return st.key, nil
	}
	raw, err := os.ReadFile(st.keyPath)
	if err == nil {
		k, err := fernet.DecodeKey(strings.TrimSpace(string(raw)))
		if err != nil {
			return nil, fmt.Errorf("master key %s: %w", st.keyPath, err)
		}
		st.key = k
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("master key: %w", err)
	}
	var k fernet.Key
	if _, err := rand.Read(k[:]); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	enc := base64.URLEncoding.EncodeToString(k[:])
	if err := writeAtomic(st.keyPath, []byte(enc), 0o600, nil); err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	st.key = &k
	return st.key, nil
}

func (st *Settings) decrypt(s string) string {
	if !strings.HasPrefix(s, encPrefix) {
		return s
	}
	k, err := st.masterKey()
	if err != nil {
		return ""
	}
	msg := fernet.VerifyAndDecrypt([]byte(s[len(encPrefix):]), 0, []*fernet.Key{k})
	if msg == nil {
		// §13 F8: an undecryptable value reads as empty instead of failing every reader.
		return ""
	}
	return string(msg)
}

func (st *Settings) encrypt(s string) (string, error) {
	if s == "" || strings.HasPrefix(s, encPrefix) {
		return s, nil
	}
	k, err := st.masterKey()
	if err != nil {
		return "", err
	}
	tok, err := fernet.EncryptAndSign([]byte(s), k)
	if err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	return encPrefix + string(tok), nil
}

// decryptNested decrypts ENC: values at any depth (§13 F21).
func (st *Settings) decryptNested(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if s, ok := x.(string); ok && strings.HasPrefix(s, encPrefix) {
				out[k] = st.decrypt(s)
				continue
			}
			out[k] = st.decryptNested(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = st.decryptNested(x)
		}
		return out
	case string:
		return st.decrypt(t)
	}
	return v
}

func defaultOf(ks keySpec) any {
	switch ks.kind {
	case kList:
		return []any{}
	case kMap:
		if d, ok := ks.def.(map[string]any); ok {
			return maps.Clone(d)
		}
		return map[string]any{}
	}
	return ks.def
}

func get(doc map[string]any, path ...string) (any, bool) {
	var cur any = doc
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func set(doc map[string]any, v any, path ...string) {
	cur := doc
	for _, p := range path[:len(path)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[path[len(path)-1]] = v
}

// Get returns a copy of the flat settings dict (spec 10 §3.1) with secrets
// decrypted, for the server's own use. Never send it to a client: use
// Masked. Current is the cheaper typed read.
func (st *Settings) Get() map[string]any {
	return deepCopy(st.load().flat).(map[string]any)
}

// View returns the flat settings dict in force, secrets decrypted,
// without copying it. Shared by every reader: never modify it.
func (st *Settings) View() map[string]any { return st.load().flat }

// Current returns the typed settings in force. Read-only.
func (st *Settings) Current() *Values { return st.load().vals }

// Value returns a copy of one flat key's value (decrypted).
func (st *Settings) Value(key string) any { return deepCopy(st.load().flat[key]) }

// String returns one flat key as a string ("" when absent or not a string).
func (st *Settings) String(key string) string {
	v, _ := st.load().flat[key].(string)
	return v
}

func (st *Settings) flatLocked() map[string]any {
	out := make(map[string]any, len(webKeys)+len(backupKeys)+2)
	for k, ks := range webKeys {
		if !ks.absent {
			out[k] = defaultOf(ks)
		}
	}
	web, _ := st.doc["web"].(map[string]any)
	for k, v := range web {
		ks, ok := webKeys[k]
		if !ok {
			continue
		}
		if s, ok := v.(string); ok && ks.secret {
			v = st.decrypt(s)
		} else {
			v = st.decryptNested(v)
		}
		out[k] = v
	}
	if _, ok := web["alertRules"]; !ok {
		if ar, ok := st.doc["alertRules"]; ok {
			out["alertRules"] = ar
		}
	}
	for _, bk := range backupKeys {
		out[bk.flat] = bk.def
		if bk.kind == kList {
			out[bk.flat] = []any{}
		}
		if v, ok := get(st.doc, bk.path...); ok && v != nil {
			if bk.kind == kNumber {
				if n, ok := toInt(v); ok {
					v = n
				}
			}
			out[bk.flat] = v
		}
	}
	notif, _ := st.doc["notifications"].(map[string]any)
	if notif == nil {
		notif = map[string]any{}
	}
	dn := st.decryptNested(notif).(map[string]any)
	out["notifications"] = dn
	for flat, p := range flattenedNotify {
		ch, _ := dn[p[0]].(map[string]any)
		v := ch[p[1]]
		if p[1] == "enabled" {
			bv, _ := v.(bool)
			out[flat] = bv
		} else {
			sv, _ := v.(string)
			out[flat] = sv
		}
	}
	return out
}

func toInt(v any) (int, bool) {
	switch t := v.(type) {
	case int:
		return t, true
	case int64:
		return int(t), true
	case float64:
		if t == float64(int(t)) {
			return int(t), true
		}
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(t))
		return n, err == nil
	}
	return 0, false
}

// Masked returns the flat settings with every secret replaced by "***",
// at every depth, as the schema (the secret tags of Values) marks them,
// and the credentials of every URL masked (§13 S1). Empty secrets read as
// "" so a user can tell an unset secret from a set one; nothing of a set
// one is revealed.
func (st *Settings) Masked() map[string]any {
	flat := st.load().flat
	out := make(map[string]any, len(flat))
	for k, v := range flat {
		out[k] = maskAt(v, topNode(k))
	}
	return out
}

func maskValue(v any) any {
	if s, ok := v.(string); ok && s == "" {
		return ""
	}
	if v == nil {
		return ""
	}
	return Mask
}

// ValidateURLs applies the URL-scheme check of spec 10 §3.5 (ldap/ldaps
// allowed for ldapUrl, §13 F22).
func ValidateURLs(partial map[string]any) error {
	var errs []string
	keys := make([]string, 0, len(partial))
	for k := range partial {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, ok := partial[k].(string)
		if !ok || strings.TrimSpace(s) == "" {
			continue
		}
		lk := strings.ToLower(k)
		if !strings.Contains(lk, "url") && !strings.Contains(lk, "host") && !strings.Contains(lk, "server") && !strings.Contains(lk, "endpoint") {
			continue
		}
		if !strings.Contains(s, "://") {
			continue
		}
		u, err := url.Parse(strings.TrimSpace(s))
		scheme := ""
		if err == nil {
			scheme = strings.ToLower(u.Scheme)
		} else {
			scheme, _, _ = strings.Cut(s, "://")
		}
		if scheme == "http" || scheme == "https" {
			continue
		}
		if k == "ldapUrl" && (scheme == "ldap" || scheme == "ldaps") {
			continue
		}
		errs = append(errs, fmt.Sprintf("Invalid URL scheme '%s' for %s — must be http or https", scheme, k))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
	}
	return nil
}

// Update writes the known keys of partial into config.yaml (unknown keys are
// ignored; a secret posted back as "***" keeps the stored value) and
// returns the change list. The write is atomic and preceded by a backup.
func (st *Settings) Update(partial map[string]any) ([]Change, error) {
	if err := ValidateURLs(partial); err != nil {
		return nil, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.reloadLocked(); err != nil {
		return nil, err
	}
	if err := st.emptyOverBackupsLocked(); err != nil {
		return nil, err
	}
	before := st.flatLocked()
	doc := deepCopy(st.doc).(map[string]any)
	var changes []Change
	keys := make([]string, 0, len(partial))
	for k := range partial {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := partial[k]
		_, isWeb := webKeys[k]
		nd := topNode(k)
		secret := nd.isSecret()
		if secret {
			if s, ok := v.(string); ok && s == Mask {
				continue
			}
		}
		_, isFlatNotify := flattenedNotify[k]
		if !isWeb && !isFlatNotify && !isBackupKey(k) {
			continue // unknown or read-only through the API: ignored
		}
		old, had := before[k]
		// Masked values posted back (nested "***", URLs with "***" for
		// credentials) keep the stored secrets.
		v = restoreAt(v, old, nd)
		if !had || !sameValue(old, v) {
			changes = append(changes, changeOf(k, old, v, nd))
		}
		if p, ok := flattenedNotify[k]; ok {
			val := v
			if secret {
				s, _ := v.(string)
				e, err := st.encrypt(s)
				if err != nil {
					return nil, err
				}
				val = e
			}
			if p[1] == "enabled" {
				val = truthyAny(v)
			}
			// §13 F10: merge into the channel instead of resetting its other fields.
			set(doc, val, "notifications", p[0], p[1])
			continue
		}
		if isWeb {
			val := v
			if s, ok := v.(string); ok && secret {
				e, err := st.encrypt(s)
				if err != nil {
					return nil, err
				}
				val = e
			} else if !secret {
				e, err := st.encryptAt(v, nd)
				if err != nil {
					return nil, err
				}
				val = e
			}
			set(doc, val, "web", k)
			continue
		}
		for _, bk := range backupKeys {
			if bk.flat != k {
				continue
			}
			val := v
			if bk.kind == kNumber {
				nv, ok := toInt(v)
				if !ok {
					return nil, fmt.Errorf("%w: %s must be a whole number", ErrInvalid, k)
				}
				val = nv
			}
			set(doc, val, bk.path...)
		}
	}
	if err := st.writeLocked(doc); err != nil {
		return nil, err
	}
	return changes, nil
}

func isBackupKey(k string) bool {
	for _, bk := range backupKeys {
		if bk.flat == k {
			return true
		}
	}
	return false
}

// sameValue compares settings values as JSON would (1 == 1.0).
func sameValue(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return reflect.DeepEqual(a, b)
	}
	var na, nb any
	_ = json.Unmarshal(ja, &na)
	_ = json.Unmarshal(jb, &nb)
	return reflect.DeepEqual(na, nb)
}

func truthyAny(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return truthy(t)
	case float64:
		return t != 0
	case int:
		return t != 0
	}
	return false
}

// changeOf is the change-log entry of key k (schema n): secrets read
// "***" at every depth, as in Masked.
func changeOf(k string, old, nw any, n *node) Change {
	if n.isSecret() {
		return Change{Key: k, Old: Mask, New: Mask}
	}
	return Change{Key: k, Old: render(maskAt(old, n)), New: render(maskAt(nw, n))}
}

func render(v any) string {
	var s string
	switch t := v.(type) {
	case nil:
		s = ""
	case string:
		s = t
	default:
		s = fmt.Sprint(t)
	}
	if utf8.RuneCountInString(s) > 80 {
		r := []rune(s)
		s = string(r[:80])
	}
	return s
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// writeLocked backs up the current file, then writes doc atomically.
func (st *Settings) writeLocked(doc map[string]any) error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	_ = enc.Close()
	return st.replaceLocked(buf.Bytes())
}

func (st *Settings) replaceLocked(data []byte) error {
	if err := st.backupLocked(); err != nil {
		return err
	}
	if err := writeAtomic(st.path, data, 0o600, st.beforeRename); err != nil {
		return err
	}
	st.doc = nil
	return st.reloadLocked()
}

// backupLocked copies config.yaml to config.yaml.bak.<unix> and keeps the
// newest five, and always the newest good one (a backup that holds a YAML
// mapping): an empty or broken config.yaml is not backed up, so saving
// over it never rotates the last good version away.
func (st *Settings) backupLocked() error {
	cur, err := os.ReadFile(st.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup settings: %w", err)
	}
	if !goodConfig(cur) {
		st.log.Warn("config.yaml is empty or not a YAML mapping: not backed up", "file", st.path)
		return nil
	}
	ts := time.Now().Unix()
	var name string
	for {
		name = fmt.Sprintf("%s.bak.%d", st.path, ts)
		if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
			break
		}
		ts++
	}
	if err := writeAtomic(name, cur, 0o600, nil); err != nil {
		return fmt.Errorf("backup settings: %w", err)
	}
	vs := st.backupsLocked()
	dir := filepath.Dir(st.path)
	keptGood := false
	for i, v := range vs {
		if i < keepBackups {
			if !keptGood {
				b, _ := os.ReadFile(filepath.Join(dir, v.Filename))
				keptGood = goodConfig(b)
			}
			continue
		}
		if !keptGood {
			if b, _ := os.ReadFile(filepath.Join(dir, v.Filename)); goodConfig(b) {
				keptGood = true
				continue
			}
		}
		_ = os.Remove(filepath.Join(dir, v.Filename))
	}
	return nil
}

// emptyOverBackupsLocked refuses a save over an empty config.yaml while a
// good backup exists: the file was almost surely emptied by accident, and
// saving would write defaults over every other setting (and, five saves
// later, rotate the last good backup away). Restoring a backup, or
// deleting the empty file, lifts the refusal.
func (st *Settings) emptyOverBackupsLocked() error {
	cur, err := os.ReadFile(st.path)
	if err != nil || len(bytes.TrimSpace(cur)) != 0 {
		return nil
	}
	dir := filepath.Dir(st.path)
	for _, v := range st.backupsLocked() {
		if b, _ := os.ReadFile(filepath.Join(dir, v.Filename)); goodConfig(b) {
			return fmt.Errorf("%w: config.yaml is empty, and %s holds the last good settings: restore it "+
				"(Settings > Config history) or delete the empty config.yaml, then save again", ErrInvalid, v.Filename)
		}
	}
	return nil
}

// goodConfig reports whether b is a non-empty YAML mapping.
func goodConfig(b []byte) bool {
	if len(bytes.TrimSpace(b)) == 0 {
		return false
	}
	var m map[string]any
	return yaml.Unmarshal(b, &m) == nil && len(m) > 0
}

// backupsLocked lists config.yaml.bak.<ts> newest first.
func (st *Settings) backupsLocked() []FileVersion {
	dir, base := filepath.Dir(st.path), filepath.Base(st.path)
	ents, _ := os.ReadDir(dir)
	var out []FileVersion
	for _, e := range ents {
		suffix, ok := strings.CutPrefix(e.Name(), base+".bak.")
		if !ok {
			continue
		}
		ts, err := strconv.ParseInt(suffix, 10, 64)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, FileVersion{Timestamp: ts, ISO: time.Unix(ts, 0).Format("2006-01-02T15:04:05"), Size: info.Size(), Filename: e.Name()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Timestamp > out[j].Timestamp })
	return out
}

// History lists the current file and its backups, newest first (max 50).
func (st *Settings) History() []FileVersion {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []FileVersion
	if fi, err := os.Stat(st.path); err == nil {
		out = append(out, FileVersion{Timestamp: fi.ModTime().Unix(), ISO: fi.ModTime().Format("2006-01-02T15:04:05"),
			Size: fi.Size(), Filename: filepath.Base(st.path), Current: true})
	}
	out = append(out, st.backupsLocked()...)
	if len(out) > 50 {
		out = out[:50]
	}
	return out
}

// ReadVersion returns the bytes of config.yaml or one of its backups.
// name must be the file's base name or <base>.bak.<digits>.
func (st *Settings) ReadVersion(name string) ([]byte, error) {
	base := filepath.Base(st.path)
	ok := name == base
	if suffix, found := strings.CutPrefix(name, base+".bak."); found && suffix != "" {
		ok = strings.Trim(suffix, "0123456789") == ""
	}
	if !ok {
		return nil, fmt.Errorf("%w: Invalid filename", ErrInvalid)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return os.ReadFile(filepath.Join(filepath.Dir(st.path), name))
}

// Raw returns the current file's bytes (nil when it does not exist).
func (st *Settings) Raw() ([]byte, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	b, err := os.ReadFile(st.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// Restore validates an uploaded config.yaml and, only if it is valid,
// backs up the current file and replaces it atomically (§13 F9).
func (st *Settings) Restore(data []byte) error {
	if len(data) > MaxRestore {
		return fmt.Errorf("%w: Upload too large (max 512 KB)", ErrTooLarge)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("%w: Empty body", ErrInvalid)
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: Invalid file encoding (expected UTF-8 YAML)", ErrInvalid)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("%w: Invalid YAML: %s", ErrInvalid, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	m, ok := normalize(v).(map[string]any)
	if !ok {
		return fmt.Errorf("%w: Config must be a YAML mapping", ErrInvalid)
	}
	if web, present := m["web"]; present && web != nil {
		if _, ok := web.(map[string]any); !ok {
			return fmt.Errorf("%w: Config key 'web' must be a mapping", ErrInvalid)
		}
	}
	if n, present := m["notifications"]; present && n != nil {
		if _, ok := n.(map[string]any); !ok {
			return fmt.Errorf("%w: Config key 'notifications' must be a mapping", ErrInvalid)
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.replaceLocked(data)
}

// Snapshot copies config.yaml to <path>.auto.<unix>, keeping the newest keep copies.
func (st *Settings) Snapshot(keep int) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	cur, err := os.ReadFile(st.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := writeAtomic(fmt.Sprintf("%s.auto.%d", st.path, time.Now().Unix()), cur, 0o600, nil); err != nil {
		return err
	}
	dir, base := filepath.Dir(st.path), filepath.Base(st.path)
	ents, _ := os.ReadDir(dir)
	var autos []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), base+".auto.") {
			autos = append(autos, e.Name())
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(autos)))
	for i := keep; i < len(autos); i++ {
		_ = os.Remove(filepath.Join(dir, autos[i]))
	}
	return nil
}

// writeAtomic writes data to a temp file beside path, fsyncs it, renames it
// over path and fsyncs the directory. hook (tests) runs before the rename.
func writeAtomic(path string, data []byte, perm os.FileMode, hook func(string) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if hook != nil {
		if err := hook(tmp); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// RemoveStaleTemps removes the temp files WriteFileAtomic leaves beside
// path when the process dies mid-write, and returns how many it removed.
// Call it at start, before anything writes path.
func RemoveStaleTemps(path string) int {
	ms, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*"))
	n := 0
	for _, m := range ms {
		if os.Remove(m) == nil {
			n++
		}
	}
	return n
}

// WriteFileAtomic is the atomic write (temp file, fsync, rename) for any
// file the server keeps.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeAtomic(path, data, perm, nil)
}
