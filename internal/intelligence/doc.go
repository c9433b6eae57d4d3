// Package intelligence serves router 11 of the API reference (spec 30 §4):
// incidents (the alert incidents the alerts room records) with their war
// room and assignment, the service dependency graph and impact analysis,
// configuration baselines with drift checks run through agents (a
// background job and on demand), the AI assistant (subpackage llm) with
// an infrastructure context that never carries a secret, and capacity
// prediction (subpackage predict).
package intelligence
