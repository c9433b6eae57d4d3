//go:build windows

package agent

import (
	"log/slog"
	"os"
	"os/exec"
)

// replaceFile moves the running binary aside (Windows cannot overwrite it)
// and puts src in its place.
func replaceFile(src, dst string) error {
	old := dst + ".old"
	_ = os.Remove(old)
	if err := os.Rename(dst, old); err != nil {
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		_ = os.Rename(old, dst)
		return err
	}
	return nil
}

// execSelf starts the new binary and exits.
func execSelf(self string, log *slog.Logger) {
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		log.Error("restart failed", "err", err)
		return
	}
	os.Exit(0)
}
