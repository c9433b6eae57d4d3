// Package dashboards serves router 14: custom saved dashboards. Every user
// lists their own dashboards and the shared ones; operators create them, and
// only the owner or an admin changes or deletes one. config_json is the
// client's opaque JSON text, stored and returned as given (once validated).
package dashboards
