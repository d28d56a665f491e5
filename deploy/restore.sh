#!/usr/bin/env bash
# Restores a backup made by deploy/backup.sh into the database named by DATABASE_URL (stop the app first).
#   PostgreSQL: into an empty database (pg_restore).   SQLite: copies the file into place.
#   RESTORE_REPLACE=1 (deploy.sh's rollback): on PostgreSQL the app's schemas (public, drizzle) are dropped
#   first, so tables a failed release's migration added do not survive the restore.
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL}"
file=${1:?usage: restore.sh BACKUP_FILE}
case "$DATABASE_URL" in
  postgres://*|postgresql://*)
    if [ "${RESTORE_REPLACE:-}" = 1 ]; then
      psql --quiet --no-psqlrc -v ON_ERROR_STOP=1 --dbname="$DATABASE_URL" \
        -c 'drop schema if exists drizzle cascade' -c 'drop schema if exists public cascade' -c 'create schema public' >/dev/null
    fi
    pg_restore --no-owner --exit-on-error --dbname="$DATABASE_URL" "$file"
    ;;
  file:*)
    db=${DATABASE_URL#file:}
    mkdir -p "$(dirname "$db")"
    rm -f "$db-wal" "$db-shm"
    cp "$file" "$db"
    ;;
  *) echo "restore: unsupported DATABASE_URL" >&2; exit 2 ;;
esac
echo "restore: $file → database restored"
