#!/usr/bin/env bash
# Packs the package as npm would publish it, then lints the tarball with publint and
# @arethetypeswrong/cli. `npm pack` builds first, through the prepack script.
set -euo pipefail

cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

tarball=$(npm pack --silent --pack-destination "$out" | tail -n 1)
echo "packed $tarball"
tar -tzf "$out/$tarball" | sed 's/^package\///' | sort > "$out/files.txt"
if grep -Ev '^(dist/|drizzle/|package\.json$|README\.md$|LICENSE$|CHANGELOG\.md$)' \
  "$out/files.txt"; then
  echo "the tarball holds files outside the allowlist (above)" >&2
  exit 1
fi

npx publint run "$out/$tarball" --strict
npx attw "$out/$tarball" --profile node16
