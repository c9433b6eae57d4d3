//go:build windows

package agent

import "os"

// statOwner has nothing to add on Windows.
func statOwner(_ os.FileInfo, _ map[string]any) {}
