// Package config holds the server's start-up configuration (from the
// environment, read once in cmd/) and the settings file config.yaml.
package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Version is the server version reported by /api/health. Release builds set
// it with -ldflags "-X github.com/noba-go/noba/internal/config.Version=X.Y.Z".
var Version = "2.0.0"

// Config is the start-up configuration of the server.
type Config struct {
	Listen  string // host:port
	DataDir string
	// DatabaseURL (NOBA_DATABASE_URL) names a PostgreSQL database
	// (postgres://...); empty keeps SQLite in DataDir/noba.db.
	DatabaseURL   string
	ConfigPath    string // config.yaml
	AdminUser     string
	AdminPassword string
	OpenAPI       bool
	TrustProxy    bool
	CertFile      string
	KeyFile       string
	HistoryDays   int
	AuditDays     int
	PwMinLen      int
	CORSOrigins   []string
	// ReplicaID names this replica among those sharing one PostgreSQL
	// database (NOBA_REPLICA_ID; empty: hostname+random).
	ReplicaID string
	// AuthorizedKeys is the SSH authorized_keys file managed by /api/admin/ssh-keys.
	AuthorizedKeys string
	LogLevel       string
}

// FromEnv builds the configuration from environment lookups (getenv is
// os.Getenv in cmd/, a map in tests). It validates what it reads.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Listen:        "0.0.0.0:8080",
		AdminUser:     getenv("NOBA_ADMIN_USER"),
		AdminPassword: getenv("NOBA_ADMIN_PASSWORD"),
		OpenAPI:       getenv("NOBA_OPENAPI") == "1" || truthy(getenv("NOBA_DEV")),
		TrustProxy:    truthy(getenv("NOBA_TRUST_PROXY")),
		CertFile:      getenv("SSL_CERT"),
		KeyFile:       getenv("SSL_KEY"),
		LogLevel:      getenv("NOBA_LOG_LEVEL"),
		ReplicaID:     strings.TrimSpace(getenv("NOBA_REPLICA_ID")),
	}
	host, port := getenv("HOST"), getenv("PORT")
	if host != "" || port != "" {
		if host == "" {
			host = "0.0.0.0"
		}
		if port == "" {
			port = "8080"
		}
		c.Listen = net.JoinHostPort(host, port)
	}
	if l := getenv("NOBA_LISTEN"); l != "" {
		c.Listen = l
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return c, fmt.Errorf("NOBA_LISTEN %q: want host:port", c.Listen)
	}
	c.DataDir = getenv("NOBA_DATA_DIR")
	c.DatabaseURL = strings.TrimSpace(getenv("NOBA_DATABASE_URL"))
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return c, fmt.Errorf("NOBA_DATABASE_URL: want postgres://user@host:port/database (SQLite is the default when it is unset)")
	}
	home := getenv("HOME")
	if c.DataDir == "" {
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		c.DataDir = filepath.Join(home, ".local", "share", "noba")
	}
	c.ConfigPath = getenv("NOBA_CONFIG")
	if c.ConfigPath == "" {
		c.ConfigPath = filepath.Join(c.DataDir, "config.yaml")
	}
	c.AuthorizedKeys = getenv("NOBA_AUTHORIZED_KEYS")
	if c.AuthorizedKeys == "" {
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		c.AuthorizedKeys = filepath.Join(home, ".ssh", "authorized_keys")
	}
	var err error
	if c.HistoryDays, err = intEnv(getenv, "NOBA_HISTORY_DAYS", 30, 1, 3650); err != nil {
		return c, err
	}
	if c.AuditDays, err = intEnv(getenv, "NOBA_AUDIT_DAYS", 90, 1, 36500); err != nil {
		return c, err
	}
	if c.PwMinLen, err = intEnv(getenv, "NOBA_PW_MIN_LEN", 8, 1, 1024); err != nil {
		return c, err
	}
	for _, o := range strings.Split(getenv("NOBA_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return c, fmt.Errorf("SSL_CERT and SSL_KEY must be set together")
	}
	return c, nil
}

// TLS reports whether the server serves TLS.
func (c Config) TLS() bool { return c.CertFile != "" && c.KeyFile != "" }

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

func intEnv(getenv func(string) string, name string, def, lo, hi int) (int, error) {
	s := getenv(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q: want an integer from %d to %d", name, s, lo, hi)
	}
	return n, nil
}
