package wire

// Report keys the agent attaches to POST /api/agent/report beside its
// metrics; the server pops them before storing the report.
const (
	KeyCmdResults   = "_cmd_results"
	KeyStreamData   = "_stream_data"
	KeyHealReports  = "_heal_reports"
	KeyCapabilities = "_capabilities"
)

// HTTP headers of the agent endpoints.
const (
	HeaderAgentKey      = "X-Agent-Key"
	HeaderAgentHostname = "X-Agent-Hostname"
	HeaderTransferID    = "X-Transfer-Id"
	HeaderChunkIndex    = "X-Chunk-Index"
	HeaderTotalChunks   = "X-Total-Chunks"
	HeaderFilename      = "X-Filename"
	HeaderFileChecksum  = "X-File-Checksum"
	HeaderAgentVersion  = "X-Agent-Version"
)

// Agent endpoint paths.
const (
	PathReport       = "/api/agent/report"
	PathWS           = "/api/agent/ws"
	PathUpdate       = "/api/agent/update"
	PathFileUpload   = "/api/agent/file-upload"
	PathFileDownload = "/api/agent/file-download/"
)

// ReportResponse is the server's answer to a report.
type ReportResponse struct {
	Status     string          `json:"status"`
	Commands   []QueuedCommand `json:"commands"`
	HealPolicy map[string]any  `json:"heal_policy"`
}

// QueuedCommand is a command as queued and handed out over HTTP.
type QueuedCommand struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	Params      map[string]any `json:"params"`
	QueuedBy    string         `json:"queued_by"`
	QueuedAt    int64          `json:"queued_at"`
	DeliveredAt float64        `json:"delivered_at,omitempty"`
}
