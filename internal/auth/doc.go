// Package auth serves login, logout, TOTP, profile, preferences and the
// admin user, session, API-key and SSH-key routes, and authenticates every
// request's session token or API key for the route guards.
package auth
