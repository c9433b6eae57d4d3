//go:build windows

package agent

import "os/exec"

// setProcGroup is a no-op on Windows (the process is killed directly).
func setProcGroup(cmd *exec.Cmd) {}
