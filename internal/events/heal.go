package events

// HealSignals carries the heal events other rooms detect for the healing
// pipeline (spec 30 §6.13): the intelligence room's predictive cycle
// publishes capacity predictions (source "prediction", rule_id
// "prediction:<group>") and metric anomalies (source "anomaly", rule_id
// "anomaly:<metric>").
var HealSignals = Topic[HealSignal]{Name: "heal.signal"}

// HealSignal is one heal event (spec 30 §6.1 HealEvent).
type HealSignal struct {
	Source    string
	RuleID    string
	Condition string
	Target    string
	Severity  string
	// Timestamp is Unix seconds.
	Timestamp float64
	Metrics   map[string]any
}
