// Package security serves router 12 of the API reference (spec 30 §5):
// security scans run on agents (command security_scan), the findings they
// report with filters, the per-host and aggregate score, the score
// history, and scans of one host or of every online host.
package security
