//go:build !windows

package agent

import (
	"log/slog"
	"os"
	"syscall"
)

// replaceFile moves src over dst atomically.
func replaceFile(src, dst string) error { return os.Rename(src, dst) }

// execSelf replaces the process with a fresh start of the (new) binary.
func execSelf(self string, log *slog.Logger) {
	if err := syscall.Exec(self, os.Args, os.Environ()); err != nil {
		log.Error("re-exec failed", "err", err)
	}
}
