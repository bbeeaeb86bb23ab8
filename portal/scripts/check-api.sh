#!/bin/sh
# Fails when the committed OpenAPI document or the generated client types differ from what the services produce now.
# Fix: `npm run gen:api` (after `make install`), then commit portal/src/api.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh "$here/scripts/gen-api.sh" "$tmp"
status=0
for f in openapi.json schema.d.ts; do
  if ! diff -u "$here/src/api/$f" "$tmp/$f" >"$tmp/$f.diff"; then
    echo "portal/src/api/$f is out of date with the services' OpenAPI (run: cd portal && npm run gen:api):" >&2
    head -n 40 "$tmp/$f.diff" >&2
    status=1
  fi
done
[ $status -eq 0 ] && echo "portal API client matches the services' OpenAPI"
exit $status
