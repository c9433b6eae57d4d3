// Package instances serves router 10 (integration instances): configured
// instances of integration platforms (several of one platform side by side,
// each with its own URL, credentials, TLS settings and health), the catalog
// of categories and platforms of the healing integration registry, and
// named groups of instances. Credentials in an instance's auth_config never
// leave the server: admins see them masked ("***"), everyone else sees
// {"redacted": true}, and a masked value sent back keeps the stored one. A
// background job checks each enabled instance's URL and records its health.
package instances
