package plugins

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// maxOutput bounds what a plugin may print.
const maxOutput = 1 << 20

// Field is one entry of a plugin's config schema.
type Field struct {
	Type     string   `json:"type"`
	Default  any      `json:"default,omitempty"`
	Required bool     `json:"required,omitempty"`
	Label    string   `json:"label,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
}

// Manifest is what `describe` prints.
type Manifest struct {
	Name         string           `json:"name"`
	Version      string           `json:"version"`
	Icon         string           `json:"icon"`
	Description  string           `json:"description"`
	Interval     int              `json:"interval"`
	ConfigSchema map[string]Field `json:"config_schema"`
}

// limitedBuffer keeps at most maxOutput bytes and notes overflow.
type limitedBuffer struct {
	bytes.Buffer
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - b.Len(); len(p) > room {
		b.over = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// run executes the plugin with one verb, stdin, extra environment and a
// timeout, killing its whole process group when the time is up.
func run(ctx context.Context, exe, verb string, stdin []byte, env []string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := exec.CommandContext(ctx, exe, verb)
	c.Dir = filepath.Dir(exe)
	c.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + filepath.Dir(exe), "LANG=C.UTF-8", "NOBA_PLUGIN_PROTOCOL=1"}, env...)
	c.Stdin = bytes.NewReader(stdin)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = time.Second
	var out, errb limitedBuffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("%s timed out after %s", verb, timeout)
	}
	if err != nil {
		msg := strings.TrimSpace(errb.String())
		if len(msg) > 200 {
			msg = msg[:200]
		}
		if msg != "" {
			return nil, fmt.Errorf("%s failed: %w: %s", verb, err, msg)
		}
		return nil, fmt.Errorf("%s failed: %w", verb, err)
	}
	if out.over {
		return nil, fmt.Errorf("%s printed more than %d bytes", verb, maxOutput)
	}
	return out.Bytes(), nil
}

var validTypes = map[string]bool{"string": true, "number": true, "boolean": true, "list": true}

func describe(ctx context.Context, exe string) (Manifest, error) {
	out, err := run(ctx, exe, "describe", nil, nil, 5*time.Second)
	if err != nil {
		return Manifest{}, err
	}
	var m Manifest
	if err := json.Unmarshal(out, &m); err != nil {
		return Manifest{}, fmt.Errorf("describe printed no valid manifest: %w", err)
	}
	for k, f := range m.ConfigSchema {
		if !validTypes[f.Type] {
			return Manifest{}, fmt.Errorf("config field %q has unknown type %q", k, f.Type)
		}
	}
	return m, nil
}

// collectAnswer is what `collect` prints.
type collectAnswer struct {
	Data  any    `json:"data"`
	Error string `json:"error"`
}

// envOf renders config values as NOBA_PLUGIN_<FIELD> variables (for shell
// plugins; lists joined by commas).
func envOf(cfg map[string]any) []string {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		name := "NOBA_PLUGIN_" + strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z':
				return r - 32
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
				return r
			}
			return '_'
		}, k)
		var v string
		switch x := cfg[k].(type) {
		case nil:
		case string:
			v = x
		case []any:
			parts := make([]string, 0, len(x))
			for _, p := range x {
				parts = append(parts, fmt.Sprint(p))
			}
			v = strings.Join(parts, ",")
		case float64:
			v = strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%f", x), "0"), ".")
		default:
			v = fmt.Sprint(x)
		}
		if strings.ContainsRune(v, 0) {
			continue
		}
		out = append(out, name+"="+v)
	}
	return out
}

func collect(ctx context.Context, exe string, cfg map[string]any, timeout time.Duration) (any, error) {
	in, err := json.Marshal(map[string]any{"config": cfg})
	if err != nil {
		return nil, err
	}
	out, err := run(ctx, exe, "collect", in, envOf(cfg), timeout)
	if err != nil {
		return nil, err
	}
	var a collectAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		return nil, errors.New("collect printed no valid JSON")
	}
	if a.Error != "" {
		return nil, errors.New(a.Error)
	}
	return a.Data, nil
}

// executable reports whether p is a regular file with an execute bit.
func executable(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
