// Package plugins serves the plugin routes of router 3 (spec 10 §9.10).
//
// A plugin is an external executable in <data dir>/plugins speaking a small
// JSON protocol over its arguments, stdin and stdout (docs/plugins.md):
// `describe` prints its manifest, `collect` reads {"config":…} on stdin and
// prints {"data":…} or {"error":…}. The server never loads plugin code into
// its own process: each run is a child process with a minimal environment,
// a timeout (its process group is killed) and a bounded output.
//
// Plugins come from the bundled catalog (embedded in the binary) or from an
// https URL pinned by its sha256. A new plugin is found by reload and starts
// disabled; an admin configures (validated against its schema) and enables
// it, and the collection loop runs each enabled plugin every interval.
package plugins
