// Package server is the root of the house: it opens storage and settings,
// builds every room, mounts their routes with the global middleware, serves
// /api/health, the API docs and the embedded UI, and runs the jobs.
package server
