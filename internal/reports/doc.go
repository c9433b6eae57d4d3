// Package reports serves the operational views of router 3 (spec 10 §9.8,
// §9.9, §9.11, §9.12): the log viewer and action log, the bandwidth,
// anomaly and custom metric reports, the Grafana dashboard template,
// runbooks and a bounded Graylog search.
package reports
