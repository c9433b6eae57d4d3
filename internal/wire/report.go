package wire

import "encoding/json"

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

// Metrics are the host fields of a report (spec 20 §4.1): the fields the
// server uses, nothing else. Fields a report carries beyond these are
// ignored when it is decoded, not kept.
type Metrics struct {
	Hostname     string             `json:"hostname"`
	Platform     string             `json:"platform"`
	Arch         string             `json:"arch"`
	AgentVersion string             `json:"agent_version"`
	AgentImpl    string             `json:"agent_impl,omitempty"`
	Timestamp    int64              `json:"timestamp"`
	CPUPercent   float64            `json:"cpu_percent"`
	CPUCount     int                `json:"cpu_count"`
	Load1        float64            `json:"load_1m"`
	Load5        float64            `json:"load_5m"`
	Load15       float64            `json:"load_15m"`
	MemTotal     int64              `json:"mem_total"`
	MemUsed      int64              `json:"mem_used"`
	MemPercent   float64            `json:"mem_percent"`
	Disks        []Disk             `json:"disks"`
	NetBytesSent int64              `json:"net_bytes_sent"`
	NetBytesRecv int64              `json:"net_bytes_recv"`
	Temperatures map[string]float64 `json:"temperatures"`
	TopProcesses []Process          `json:"top_processes"`
	UptimeS      int64              `json:"uptime_s"`
	Tags         string             `json:"tags,omitempty"`
}

// Report is the body of POST /api/agent/report: the metrics and what the
// agent hands over beside them.
type Report struct {
	Metrics
	// CmdResults are the results of commands run since the last report.
	CmdResults []Msg `json:"_cmd_results"`
	// StreamData are log-stream lines since the last report, by stream id.
	StreamData map[string][]string `json:"_stream_data,omitempty"`
	// HealReports are the agent's heal outcomes.
	HealReports []Msg `json:"_heal_reports,omitempty"`
	// Capabilities is the capability manifest (sent every few hours).
	Capabilities json.RawMessage `json:"_capabilities,omitempty"`
}

// Disk is one mounted filesystem of a report. Percent is df's Use%:
// used/(used+available) rounded up (DiskPercent).
type Disk struct {
	Mount   string  `json:"mount"`
	Total   int64   `json:"total"`
	Used    int64   `json:"used"`
	Percent float64 `json:"percent"`
	FSType  string  `json:"fstype"`
}

// Process is one entry of a report's top_processes.
type Process struct {
	PID  int     `json:"pid"`
	Name string  `json:"name"`
	CPU  float64 `json:"cpu"`
	Mem  float64 `json:"mem"`
}

// DecodeReport parses a report body. Nesting deeper than MaxDepth is
// refused; fields of the wrong type are left at their zero value (an
// older agent's odd field does not cost the whole report); unknown fields
// are dropped.
func DecodeReport(b []byte) (*Report, error) {
	if err := CheckDepth(b, MaxDepth); err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		var te *json.UnmarshalTypeError
		if !asTypeError(err, &te) {
			return nil, err
		}
		r.Metrics.keepWholeNumbers(b)
	}
	return &r, nil
}

// wholeNumbers are the integer fields of a report read as any JSON number.
type wholeNumbers struct {
	Timestamp    *float64 `json:"timestamp"`
	CPUCount     *float64 `json:"cpu_count"`
	MemTotal     *float64 `json:"mem_total"`
	MemUsed      *float64 `json:"mem_used"`
	NetBytesSent *float64 `json:"net_bytes_sent"`
	NetBytesRecv *float64 `json:"net_bytes_recv"`
	UptimeS      *float64 `json:"uptime_s"`
	Disks        []struct {
		Total *float64 `json:"total"`
		Used  *float64 `json:"used"`
	} `json:"disks"`
	TopProcesses []struct {
		PID *float64 `json:"pid"`
	} `json:"top_processes"`
}

// keepWholeNumbers recovers the integer fields a report sent with a
// fraction. encoding/json leaves an int64 field at zero when the JSON
// number has one, so an agent that sends its uptime as /proc/uptime reads
// ("uptime_s": 265443.87, the Python agent without psutil) was shown as
// up for 0 s; such a value is kept, truncated to whole units.
func (m *Metrics) keepWholeNumbers(b []byte) {
	var w wholeNumbers
	if err := json.Unmarshal(b, &w); err != nil {
		var te *json.UnmarshalTypeError
		if !asTypeError(err, &te) {
			return
		}
	}
	set := func(dst *int64, f *float64) {
		if *dst == 0 && f != nil && *f >= -maxWhole && *f <= maxWhole {
			*dst = int64(*f)
		}
	}
	set(&m.Timestamp, w.Timestamp)
	set(&m.MemTotal, w.MemTotal)
	set(&m.MemUsed, w.MemUsed)
	set(&m.NetBytesSent, w.NetBytesSent)
	set(&m.NetBytesRecv, w.NetBytesRecv)
	set(&m.UptimeS, w.UptimeS)
	var n int64
	if set(&n, w.CPUCount); m.CPUCount == 0 && n > 0 && n < 1<<20 {
		m.CPUCount = int(n)
	}
	for i := range min(len(m.Disks), len(w.Disks)) {
		set(&m.Disks[i].Total, w.Disks[i].Total)
		set(&m.Disks[i].Used, w.Disks[i].Used)
	}
	for i := range min(len(m.TopProcesses), len(w.TopProcesses)) {
		var pid int64
		if set(&pid, w.TopProcesses[i].PID); m.TopProcesses[i].PID == 0 && pid > 0 && pid < 1<<31 {
			m.TopProcesses[i].PID = int(pid)
		}
	}
}

// maxWhole bounds a float converted to int64 (2^63 itself overflows).
const maxWhole = 1 << 62
