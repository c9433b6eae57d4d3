package intelligence

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Routes mounts router 11 (intelligence).
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/incidents", authz.Read, "List recent incidents"), r.listIncidents)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/incidents/{id}/resolve", authz.Operator, "Resolve an incident"), r.resolveIncident)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/incidents/{id}/messages", authz.Read, "Get incident war room messages"), r.listMessages)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/incidents/{id}/messages", authz.Operator, "Post to incident war room"), r.postMessage)
	httpx.Register(rt, httpx.Op(http.MethodPut, "/api/incidents/{id}/assign", authz.Operator, "Assign incident to a user"), r.assignIncident)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/dependencies", authz.Read, "Service dependency graph"), r.graph)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/dependencies", authz.Admin, "Create a service dependency"), r.createDependency)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/dependencies/{dep_id}", authz.Admin, "Delete a service dependency"), r.deleteDependency)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/dependencies/impact/{service}", authz.Read, "Transitive impact analysis"), r.impact)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/dependencies/discover/{hostname}", authz.Operator, "Discover services on agent"), r.discover)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/baselines", authz.Read, "List config baselines"), r.listBaselines)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/baselines", authz.Admin, "Create a config baseline"), r.createBaseline)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/baselines/{id}", authz.Admin, "Delete a config baseline"), r.deleteBaseline)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/baselines/{id}/set-from/{hostname}", authz.Admin, "Set baseline hash from agent"), r.setFromAgent)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/baselines/check", authz.Operator, "Trigger immediate drift check"), r.triggerCheck)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/baselines/{id}/results", authz.Read, "Drift check results per agent"), r.baselineResults)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/ai/status", authz.Read, "AI/LLM configuration status"), r.aiStatus)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/ai/chat", authz.Operator, "Chat with AI assistant"), r.aiChat)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/ai/analyze-alert/{alert_id}", authz.Operator, "AI analysis of an alert"), r.aiAnalyzeAlert)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/ai/analyze-logs", authz.Operator, "AI analysis of log excerpt"), r.aiAnalyzeLogs)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/ai/summarize-incident/{id}", authz.Operator, "AI incident summary/report"), r.aiSummarizeIncident)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/predict/capacity", authz.Read, "Multi-metric capacity prediction"), r.predictCapacity)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/ai/test", authz.Admin, "Test LLM connection"), r.aiTest)
}
