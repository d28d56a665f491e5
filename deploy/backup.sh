#!/usr/bin/env bash
# Daily backup of the EnergyApp database; keeps the newest KEEP (default 14).
#   PostgreSQL: pg_dump custom format.   SQLite/libSQL: a consistent online copy (VACUUM INTO).
# Usage: DATABASE_URL=... BACKUP_DIR=/var/backups/energyapp deploy/backup.sh
# Restore: see README "Back up and restore" (deploy/restore.sh).
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL}"
BACKUP_DIR=${BACKUP_DIR:-/var/backups/energyapp}
KEEP=${KEEP:-14}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BACKUP_DIR"

case "$DATABASE_URL" in
  postgres://*|postgresql://*)
    out="$BACKUP_DIR/energyapp-$stamp.pgdump"
    pg_dump --format=custom --no-owner --file="$out.tmp" "$DATABASE_URL"
    ;;
  file:*)
    db=${DATABASE_URL#file:}
    out="$BACKUP_DIR/energyapp-$stamp.sqlite"
    node -e '
      const { createClient } = require("@libsql/client");
      const c = createClient({ url: "file:" + process.argv[1] });
      c.execute({ sql: "vacuum into ?", args: [process.argv[2]] }).then(() => c.close(), e => { console.error(e.message); process.exit(1) });
    ' "$db" "$out.tmp"
    ;;
  *) echo "backup: unsupported DATABASE_URL" >&2; exit 2 ;;
esac
mv "$out.tmp" "$out"
echo "backup: wrote $out"

# keep the newest $KEEP backups
ls -1t "$BACKUP_DIR"/energyapp-* 2>/dev/null | tail -n +$((KEEP + 1)) | xargs -r rm -f
