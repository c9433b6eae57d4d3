package automations_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

// agent_command automations run through a real noba-agent: one host and
// every online host (__all__).
func TestAgentCommandThroughRealAgent(t *testing.T) {
	e := servertest.New(t)
	const key = "automations-agent-key-0123456789"
	if _, err := e.Server.Settings.Update(map[string]any{"agentKeys": key}); err != nil {
		t.Fatal(err)
	}
	e.StartAgent(t, servertest.AgentSpec{Key: key, Host: "auto-agent"})
	op := e.Token("operator")
	for host, want := range map[string]string{"auto-agent": "agent_command ping on auto-agent: ok", "__all__": "agent_command ping succeeded on 1 agents"} {
		id := create(t, e, "operator", map[string]any{"name": "ping " + host, "type": "agent_command",
			"config": map[string]any{"hostname": host, "command": "ping", "timeout": 20}})
		var res struct {
			RunID int64 `json:"run_id"`
		}
		e.JSON(http.MethodPost, "/api/automations/"+id+"/run", op, nil, &res)
		r := waitRun(t, e, res.RunID, finished)
		if r.Status != "done" || !strings.HasPrefix(deref(r.Output), want) {
			t.Fatalf("%s: %+v %q", host, r, deref(r.Output))
		}
	}
}
