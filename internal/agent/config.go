package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/noba-go/noba/internal/agent/sysroot"
)

// Flags are the command-line values (empty = not given).
type Flags struct {
	Server, Key, Hostname, Config, DataDir string
	Interval                               int
}

// Config is the agent's effective configuration.
type Config struct {
	Server    string
	Key       string
	Interval  int
	Hostname  string
	Tags      string
	VerifySSL bool
	// ConfigPath is the file the configuration came from (removed by uninstall).
	ConfigPath string
	// DataDir keeps backups of replaced files and transfer scratch space.
	DataDir string
	// Sys is the host the agent reads and acts on (nil: this machine).
	Sys *sysroot.Sys
}

// DefaultConfigPath is the config file used without --config.
func DefaultConfigPath() string {
	if runtime.GOOS == "windows" {
		return filepath.Join(os.Getenv("ProgramData"), "noba-agent", "agent.yaml")
	}
	return "/etc/noba-agent.yaml"
}

// fileConfig is the YAML config file.
type fileConfig struct {
	Server    string `yaml:"server"`
	APIKey    string `yaml:"api_key"`
	Interval  any    `yaml:"interval"`
	Hostname  string `yaml:"hostname"`
	Tags      string `yaml:"tags"`
	VerifySSL *bool  `yaml:"verify_ssl"`
}

func readConfigFile(path string) (fileConfig, error) {
	var fc fileConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return fc, err
	}
	if err := yaml.Unmarshal(b, &fc); err == nil {
		return fc, nil
	}
	// Fallback: naive "key: value" lines.
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		switch strings.TrimSpace(k) {
		case "server":
			fc.Server = v
		case "api_key":
			fc.APIKey = v
		case "interval":
			fc.Interval = v
		case "hostname":
			fc.Hostname = v
		case "tags":
			fc.Tags = v
		case "verify_ssl":
			b := v == "true" || v == "yes" || v == "1"
			fc.VerifySSL = &b
		}
	}
	return fc, nil
}

// LoadConfig merges flag > config file > environment > default.
func LoadConfig(f Flags, getenv func(string) string) (Config, error) {
	c := Config{Interval: 30, VerifySSL: true, ConfigPath: f.Config}
	fc, err := readConfigFile(f.Config)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return c, fmt.Errorf("config %s: %w", f.Config, err)
	}
	pick := func(vals ...string) string {
		for _, v := range vals {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
		return ""
	}
	c.Server = strings.TrimRight(pick(f.Server, fc.Server, getenv("NOBA_SERVER")), "/")
	c.Key = pick(f.Key, fc.APIKey, getenv("NOBA_AGENT_KEY"))
	c.Hostname = pick(f.Hostname, fc.Hostname, getenv("NOBA_AGENT_HOSTNAME"))
	c.Tags = pick(fc.Tags, getenv("NOBA_AGENT_TAGS"))
	if fc.VerifySSL != nil {
		c.VerifySSL = *fc.VerifySSL
	}
	iv := ""
	if f.Interval > 0 {
		iv = strconv.Itoa(f.Interval)
	} else if fc.Interval != nil {
		iv = fmt.Sprint(fc.Interval)
	}
	if iv = pick(iv, getenv("NOBA_AGENT_INTERVAL")); iv != "" {
		n, err := strconv.Atoi(iv)
		if err != nil || n < 1 || n > 86400 {
			return c, fmt.Errorf("invalid interval %q (1-86400 seconds)", iv)
		}
		c.Interval = n
	}
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
	}
	if c.Server != "" {
		u, err := url.Parse(c.Server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("invalid server URL %q", c.Server)
		}
	}
	c.DataDir = f.DataDir
	if c.DataDir == "" {
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			home = os.TempDir()
		}
		c.DataDir = filepath.Join(home, ".noba-agent")
	}
	return c, nil
}
