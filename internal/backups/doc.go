// Package backups serves the backup routes of router 3 (spec 10 §9.7): NAS
// and cloud job status, the snapshot explorer (history, browse, diff, file
// versions, single-file restore), restic repository status, backup
// schedules and progress, destination health and the e-mailed report.
//
// The explorer has two sources. When the `resticRepo` setting is set, the
// snapshots are that restic repository's, read through the `restic` CLI
// with --json (snapshots, ls, dump); otherwise they are the dated snapshot
// directories (YYYYMMDD-HHMMSS) under `backupDest`. Either way every path
// is confined to the snapshot root (whole path components, no "..", no
// symlink escape), and a restore writes one file atomically inside a
// backup source or <data dir>/restores, never in a system path.
package backups
