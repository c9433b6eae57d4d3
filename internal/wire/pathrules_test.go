package wire

import (
	"fmt"
	"strings"
	"testing"
)

// Read-only commands read the configuration files a user watches for
// drift; writing commands keep the spec's system-file denylist; credentials,
// pseudo-filesystems and traversal are refused to every command.
func TestPathRulesReadVsWrite(t *testing.T) {
	reads := []string{"file_checksum", "file_read", "file_stat", "file_list", "disk_usage", "verify_backup", "file_transfer", "follow_logs"}
	writes := []string{"file_write", "file_delete", "file_push"}
	params := func(cmd, p string) map[string]any {
		m := map[string]any{"path": p}
		switch cmd {
		case "file_write":
			m["content"] = "x"
		case "file_push":
			m["transfer_id"] = "0123456789abcdef"
		}
		return m
	}
	config := []string{"/etc/ssh/sshd_config", "/etc/hosts", "/etc/passwd", "/etc/sudoers", "/root/.ssh/authorized_keys",
		"/boot/grub/grub.cfg", "/etc//hosts", "/etc/ssh/ssh_host_ed25519_key.pub", "/home/u/.ssh/id_ed25519.pub"}
	secrets := []string{"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/security/opasswd", "/etc//shadow",
		"/home/u/.ssh/id_ed25519", "/root/.ssh/id_rsa", "/etc/ssh/ssh_host_ed25519_key", "/etc/ssl/private/server.pem",
		"/var/lib/noba/.master.key", "/etc/nginx/tls/site.key", "/root/.gnupg/private-keys-v1.d/a", "/run/secrets/db",
		"/proc/1/environ", "/proc", "/sys/kernel/x", "/dev/sda", "/etc/ssh/../shadow", "/var/../etc/hosts", "/tmp/a\x00b"}
	for _, p := range config {
		for _, cmd := range reads {
			if err := ValidateParams(cmd, params(cmd, p)); err != nil {
				t.Errorf("%s %q refused: %v", cmd, p, err)
			}
		}
		if !strings.Contains(p, ".pub") {
			for _, cmd := range writes {
				err := ValidateParams(cmd, params(cmd, p))
				if want := fmt.Sprintf("Path '%s' is on the denylist", p); err == nil || err.Error() != want {
					t.Errorf("%s %q: %v, want %q", cmd, p, err, want)
				}
			}
		}
	}
	for _, p := range secrets {
		for _, cmd := range append(reads, writes...) {
			if err := ValidateParams(cmd, params(cmd, p)); err == nil {
				t.Errorf("%s %q accepted", cmd, p)
			}
		}
	}
	if err := CheckReadPath("/home/u/.ssh/id_ed25519"); err == nil || err.Error() != "Path '/home/u/.ssh/id_ed25519' holds secrets and is never read" {
		t.Errorf("private key: %v", err)
	}
	// Ordinary data stays writable (the agent's allowlist narrows it).
	if err := ValidateParams("file_write", params("file_write", "/opt/noba-agent/notes.txt")); err != nil {
		t.Errorf("file_write to the agent's directory: %v", err)
	}
}
