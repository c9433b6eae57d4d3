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
// decides it within the timeout, so the healing room auto-denies it, and
// an admin approving it afterwards through the API runs nothing: the
// approval's result is the refusal and the ledger keeps one row, denied.
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
	if c := e.JSON(http.MethodPost, path+"/decide", admin, map[string]any{"decision": "approved"}, nil); c != http.StatusOK {
		t.Fatalf("decide: %d", c)
	}
	waitFor(t, "the approval's result", func() bool {
		e.JSON(http.MethodGet, path, admin, nil, &ap)
		return ap["result"] != nil
	})
	if res, _ := ap["result"].(string); !strings.Contains(res, `"success":false`) || !strings.Contains(res, "auto-denied") {
		t.Fatalf("got result %v, want the refusal", ap["result"])
	}
	var rows []map[string]any
	e.JSON(http.MethodGet, "/api/healing/ledger?rule_id=pb_rule", e.Token("viewer"), nil, &rows)
	if len(rows) != 1 || !strings.HasPrefix(fmt.Sprint(rows[0]["verification_detail"]), "auto_denied") || rows[0]["action_success"] != nil {
		t.Fatalf("got ledger %+v, want one auto-denied approval row", rows)
	}
}
