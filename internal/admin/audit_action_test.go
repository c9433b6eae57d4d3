package admin_test

import (
	"net/http"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

// Issue 11 item 11: the reference wins over the spec notes: a settings
// write is audited as settings_save (beside the settings_change list).
func TestSettingsWriteAuditedAsSettingsSave(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	if st, b := env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"monitoredServices": "nginx"}); st != http.StatusOK {
		t.Fatalf("settings: %d %s", st, b)
	}
	var audit []map[string]any
	env.JSON(http.MethodGet, "/api/audit?action=settings_save", admin, nil, &audit)
	if len(audit) != 1 || audit[0]["username"] != "admin" || audit[0]["details"] != "Settings written to config.yaml" {
		t.Fatalf("settings_save audit = %v", audit)
	}
	env.JSON(http.MethodGet, "/api/audit?action=settings_change", admin, nil, &audit)
	if len(audit) != 1 {
		t.Fatalf("settings_change audit = %v", audit)
	}
}
