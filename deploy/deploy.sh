#!/usr/bin/env bash
# One-command update on the VPS: fetch → install → build → switch → restart (migrations run at start-up,
# once, under a lock) → health check → roll back to the previous build if the check fails.
# Usage (as root): deploy/deploy.sh [git-ref]     Layout: /opt/energyapp/{repo,releases/<stamp>,current →}
set -euo pipefail
APP_ROOT=${APP_ROOT:-/opt/energyapp}
REF=${1:-main}
SERVICE=${SERVICE:-energyapp}
HEALTH_URL=${HEALTH_URL:-http://127.0.0.1:3000/api/health}
KEEP_RELEASES=${KEEP_RELEASES:-5}

repo="$APP_ROOT/repo"
release="$APP_ROOT/releases/$(date -u +%Y%m%d%H%M%S)"
previous=$(readlink -f "$APP_ROOT/current" 2>/dev/null || true)

echo "deploy: fetching $REF"
git -C "$repo" fetch --quiet origin
git -C "$repo" worktree add --detach --force "$release" "origin/$REF" >/dev/null 2>&1 || git -C "$repo" worktree add --detach --force "$release" "$REF"

echo "deploy: installing and building in $release"
(cd "$release" && npm ci --no-audit --no-fund && npm run build)
chown -R energyapp:energyapp "$release"

switch_to() { ln -sfn "$1" "$APP_ROOT/current.new" && mv -Tf "$APP_ROOT/current.new" "$APP_ROOT/current"; }

healthy() {
  for _ in $(seq 1 30); do
    if curl -fsS --max-time 2 "$HEALTH_URL" | grep -q '"db":"ok"'; then return 0; fi
    sleep 1
  done
  return 1
}

switch_to "$release"
systemctl restart "$SERVICE"
if healthy; then
  echo "deploy: $release is live"
  ls -1dt "$APP_ROOT"/releases/* | tail -n +$((KEEP_RELEASES + 1)) | xargs -r -I{} git -C "$repo" worktree remove --force {}
  exit 0
fi

echo "deploy: health check failed; rolling back to ${previous:-nothing}" >&2
journalctl -u "$SERVICE" -n 30 --no-pager >&2 || true
if [ -n "$previous" ]; then
  switch_to "$previous"
  systemctl restart "$SERVICE"
  healthy && echo "deploy: rolled back to $previous" >&2
fi
exit 1
