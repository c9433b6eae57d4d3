// Package ops serves router 15 (operations) beyond the system views of the
// stats room: recovery actions, multi-site sync status, SMART health
// (smartctl --json), the systemd journal and its units, the CPU governor,
// infrastructure-as-code exports (Ansible, docker-compose.yml, shell)
// generated from what agents reported, backup verifications and 3-2-1
// tracking, and the update check. Host tools run through the runcmd seam.
package ops
