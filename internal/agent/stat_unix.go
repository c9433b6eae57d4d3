//go:build !windows

package agent

import (
	"os"
	"syscall"
)

// statOwner adds the owner of a file to a file_stat result.
func statOwner(fi os.FileInfo, res map[string]any) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st != nil {
		res["uid"], res["gid"] = st.Uid, st.Gid
	}
}
