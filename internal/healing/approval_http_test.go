package healing_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/healing"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// A high-risk heal at execute trust waits in the approvals queue; nobody
// decides it within the timeout, so the healing room auto-denies it: the
// approvals API shows it denied with the reason, refuses a late approval,
// and the ledger keeps one row, denied.
func TestHealApprovalExpiresThroughApprovalsAPI(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithClock(clock)}})
	room := e.Server.Healing()
	admin := e.Token("admin")
	if c := e.JSON(http.MethodPut, "/api/healing/trust/pb_rule", admin, map[string]any{"level": "execute"}, nil); c != http.StatusOK {
		t.Fatal(c)
	}
	out, err := room.Process(context.Background(), healing.Event{Source: "alert", RuleID: "pb_rule", Target: "pb-target", Condition: "x > 1",
		Chain: []healing.Step{{Action: "run_playbook", Params: map[string]any{"playbook_id": "no-such-playbook"}}}})
	if err != nil || out.Stage != "approve" || out.ApprovalID == 0 {
		t.Fatalf("got %+v %v, want an approval", out, err)
	}
	room.Wait()
	path := fmt.Sprintf("/api/approvals/%d", out.ApprovalID)
	var ap map[string]any
	if c := e.JSON(http.MethodGet, path, admin, nil, &ap); c != http.StatusOK || ap["status"] != "pending" || ap["action_type"] != "run_playbook" {
		t.Fatalf("got %d %+v, want a pending run_playbook approval", c, ap)
	}
	mu.Lock()
	now = now.Add(time.Hour + time.Second)
	mu.Unlock()
	if err := room.ExpireApprovals(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The queue shows the approval denied, with the reason, decided by
	// nobody; an admin can no longer approve it.
	if c := e.JSON(http.MethodGet, path, admin, nil, &ap); c != http.StatusOK || ap["status"] != "denied" || ap["decided_by"] != nil {
		t.Fatalf("got %d %+v, want the approval denied by nobody", c, ap)
	}
	if res, _ := ap["result"].(string); !strings.Contains(res, `"success":false`) || !strings.Contains(res, "auto-denied") {
		t.Fatalf("got result %v, want the auto-denial", ap["result"])
	}
	var er map[string]any
	if c := e.JSON(http.MethodPost, path+"/decide", admin, map[string]any{"decision": "approved"}, &er); c != http.StatusBadRequest ||
		!strings.Contains(fmt.Sprint(er), "Approval already denied") {
		t.Fatalf("decide after expiry: %d %v, want 400 Approval already denied", c, er)
	}
	var pending []map[string]any
	e.JSON(http.MethodGet, "/api/approvals?status=pending", admin, nil, &pending)
	for _, p := range pending {
		if fmt.Sprint(p["id"]) == fmt.Sprint(out.ApprovalID) {
			t.Fatalf("auto-denied approval still listed as pending: %+v", p)
		}
	}
	var rows []map[string]any
	e.JSON(http.MethodGet, "/api/healing/ledger?rule_id=pb_rule", e.Token("viewer"), nil, &rows)
	if len(rows) != 1 || !strings.HasPrefix(fmt.Sprint(rows[0]["verification_detail"]), "auto_denied") || rows[0]["action_success"] != nil {
		t.Fatalf("got ledger %+v, want one auto-denied approval row", rows)
	}
}
