package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestSchemaMatchesKeys: Values and webKeys agree on which keys are
// secrets (a key added to webKeys without a field is read through
// Get/String, its secret flag from webKeys).
func TestSchemaMatchesKeys(t *testing.T) {
	fields := valueFields()
	vt := reflect.TypeFor[Values]()
	for k, ks := range webKeys {
		i, ok := fields[k]
		if !ok {
			continue
		}
		tagged := vt.Field(i).Tag.Get("secret") == "true"
		if tagged != ks.secret {
			t.Errorf("%s: secret tag %v, webKeys secret %v", k, tagged, ks.secret)
		}
	}
	for name := range fields {
		_, web := webKeys[name]
		if !web && !isBackupKey(name) && name != "notifications" && !strings.HasPrefix(name, "-") {
			t.Errorf("Values field %s is neither a web, backup nor notifications key", name)
		}
	}
}
