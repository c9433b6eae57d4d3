-- +goose Up
-- One row per verify_backup command: the pending row written by the
-- request and the agent's result are merged by this key, whichever lands
-- first (they raced and could leave a stale pending row beside the result).
DELETE FROM backup_verifications
 WHERE command_id IS NOT NULL AND command_id <> '' AND status = 'pending'
   AND EXISTS (SELECT 1 FROM backup_verifications o
                WHERE o.command_id = backup_verifications.command_id
                  AND o.hostname = backup_verifications.hostname
                  AND o.id <> backup_verifications.id);
DELETE FROM backup_verifications
 WHERE command_id IS NOT NULL AND command_id <> ''
   AND id NOT IN (SELECT MAX(id) FROM backup_verifications
                   WHERE command_id IS NOT NULL AND command_id <> ''
                   GROUP BY command_id, hostname)
   AND EXISTS (SELECT 1 FROM backup_verifications o
                WHERE o.command_id = backup_verifications.command_id
                  AND o.hostname = backup_verifications.hostname
                  AND o.id <> backup_verifications.id);
CREATE UNIQUE INDEX idx_backup_verifications_cmd_host ON backup_verifications (command_id, hostname) WHERE command_id <> '';

-- +goose Down
DROP INDEX IF EXISTS idx_backup_verifications_cmd_host;
