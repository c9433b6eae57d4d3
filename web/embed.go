// Package web embeds the built single-page dashboard (web/dist).
//
// The app is built with `npm --prefix web ci && npm --prefix web run build`.
// On a fresh clone dist holds only .gitkeep, so the server falls back to
// its placeholder page until the UI is built.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built app's files rooted at dist/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // cannot happen: "dist" is a valid embedded directory
	}
	return sub
}
