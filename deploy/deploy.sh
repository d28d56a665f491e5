#!/usr/bin/env bash
# One-command update on the VPS: fetch → install → build → back up the database (when the release migrates) →
# switch → rolling restart (one app process at a time; migrations run at start-up, once, under a lock) → health
# check of each → on failure roll back: stop, restore the backup, switch to the previous build, start, check.
# Usage (as root): deploy/deploy.sh [git-ref]     Layout: /opt/energyapp/{repo,releases/<stamp>,current →}
#
# Why backup + restore rather than expand/contract: drizzle-kit writes forward-only migrations, and nothing
# checks that a release only adds; a rollback that restores the pre-deploy backup puts the schema and the data
# back exactly as the previous build knew them, whatever the migration did. Its cost: writes made between the
# backup and the rollback (the failed release's health-check window, under a minute) are lost. A release
# whose migration journal is the same as the running one's takes no backup and restores nothing.
#
# Environment:
#   INSTANCES="1 2"   several processes: the systemd template unit energyapp@<n> (deploy/energyapp@.service,
#                     PORT=PORT_BASE+n), restarted one at a time so Caddy always has one to send requests to.
#                     Empty (default): the single unit $SERVICE on $HEALTH_URL.
#   ENV_FILE          where DATABASE_URL is read for the backup (default /etc/energyapp/energyapp.env)
#   RELEASE_DIR       an already built release to deploy (skips fetch and build; CI artefacts, tests)
#   SYSTEMCTL         the service manager command (default systemctl)
#   SETTLE_SECONDS    with INSTANCES, the wait after a restarted process is healthy before the next one stops
#                     (default 3: Caddy's health check, every 1 s with a 2 s timeout, must send to it again first;
#                     each stopping process drains for SHUTDOWN_DRAIN_MS, README "Scaling past one VPS")
set -euo pipefail
APP_ROOT=${APP_ROOT:-/opt/energyapp}
REF=${1:-main}
SERVICE=${SERVICE:-energyapp}
INSTANCES=${INSTANCES:-}
PORT_BASE=${PORT_BASE:-3000}
HEALTH_URL=${HEALTH_URL:-http://127.0.0.1:3000/api/health}
HEALTH_TRIES=${HEALTH_TRIES:-30}
SETTLE_SECONDS=${SETTLE_SECONDS:-3}
KEEP_RELEASES=${KEEP_RELEASES:-5}
ENV_FILE=${ENV_FILE:-/etc/energyapp/energyapp.env}
BACKUP_DIR=${DEPLOY_BACKUP_DIR:-$APP_ROOT/deploy-backups}
SYSTEMCTL=${SYSTEMCTL:-systemctl}
here=$(cd "$(dirname "$0")" && pwd)

repo="$APP_ROOT/repo"
previous=""
[ -e "$APP_ROOT/current" ] && previous=$(readlink -f "$APP_ROOT/current")

if [ -n "${RELEASE_DIR:-}" ]; then
  release=$(readlink -f "$RELEASE_DIR")
else
  release="$APP_ROOT/releases/$(date -u +%Y%m%d%H%M%S)"
  echo "deploy: fetching $REF"
  git -C "$repo" fetch --quiet origin
  git -C "$repo" worktree add --detach --force "$release" "origin/$REF" >/dev/null 2>&1 || git -C "$repo" worktree add --detach --force "$release" "$REF"
  echo "deploy: installing and building in $release"
  (cd "$release" && npm ci --no-audit --no-fund && npm run build)
  chown -R energyapp:energyapp "$release"
fi

switch_to() { ln -sfn "$1" "$APP_ROOT/current.new" && mv -Tf "$APP_ROOT/current.new" "$APP_ROOT/current"; }

units() { if [ -n "$INSTANCES" ]; then for i in $INSTANCES; do echo "$SERVICE@$i"; done; else echo "$SERVICE"; fi; }
health_url() { case "$1" in *@*) echo "http://127.0.0.1:$((PORT_BASE + ${1##*@}))/api/health" ;; *) echo "$HEALTH_URL" ;; esac; }

healthy() {
  for _ in $(seq 1 "$HEALTH_TRIES"); do
    if curl -fsS --max-time 2 "$1" 2>/dev/null | grep -q '"db":"ok"'; then return 0; fi
    sleep 1
  done
  return 1
}

# the migrations a build carries (its journal): the same list means the schema does not change
journal() { cat "$1"/.output/server/drizzle/*/meta/_journal.json 2>/dev/null | grep -o '"tag": *"[^"]*"' || true; }

backup=""
if [ -n "$previous" ] && [ "$(journal "$previous")" != "$(journal "$release")" ]; then
  set -a; [ -f "$ENV_FILE" ] && . "$ENV_FILE"; set +a
  echo "deploy: the release migrates the database: backing it up first"
  # from the running release: its node_modules have the SQLite driver backup.sh uses
  backup=$(cd "$previous" && BACKUP_DIR="$BACKUP_DIR" KEEP=${KEEP_BACKUPS:-3} "$here/backup.sh" | sed -n 's/^backup: wrote //p')
  [ -n "$backup" ] || { echo "deploy: backup failed; nothing was changed" >&2; exit 1; }
fi

switch_to "$release"
failed=""
first=1
for unit in $(units); do
  # the load balancer must see the process restarted before this one healthy again before this one drains
  [ -n "$INSTANCES" ] && [ "$first" = 0 ] && sleep "$SETTLE_SECONDS"
  first=0
  echo "deploy: restarting $unit"
  "$SYSTEMCTL" restart "$unit"
  if ! healthy "$(health_url "$unit")"; then failed=$unit; break; fi
done
if [ -z "$failed" ]; then
  echo "deploy: $release is live"
  [ -n "${RELEASE_DIR:-}" ] || ls -1dt "$APP_ROOT"/releases/* | tail -n +$((KEEP_RELEASES + 1)) | xargs -r -I{} git -C "$repo" worktree remove --force {}
  exit 0
fi

echo "deploy: health check of $failed failed; rolling back to ${previous:-nothing}" >&2
journalctl -u "$failed" -n 30 --no-pager >&2 2>/dev/null || true
[ -n "$previous" ] || exit 1
# every process stops before the database goes back: none may write into the restored copy with new code
for unit in $(units); do "$SYSTEMCTL" stop "$unit"; done
if [ -n "$backup" ]; then
  echo "deploy: restoring the database from $backup" >&2
  RESTORE_REPLACE=1 "$here/restore.sh" "$backup" >&2 || { echo "deploy: restore failed; the services stay stopped" >&2; exit 1; }
fi
switch_to "$previous"
ok=1
for unit in $(units); do
  "$SYSTEMCTL" start "$unit"
  healthy "$(health_url "$unit")" || ok=0
done
[ "$ok" = 1 ] && echo "deploy: rolled back to $previous" >&2
exit 1
