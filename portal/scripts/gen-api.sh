#!/bin/sh
# Writes the gateway's combined OpenAPI document and its TypeScript types into the folder given (default src/api).
# The document comes from the Python services themselves (casefold_local.openapi), so it needs `make install` first.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-src/api}
case "$out" in /*) ;; *) out="$here/$out" ;; esac
mkdir -p "$out"
uv=${UV:-}
if [ -z "$uv" ]; then
  if [ -x "$HOME/.cache/casefold/tools-uv-0.13.8/bin/uv" ]; then uv="$HOME/.cache/casefold/tools-uv-0.13.8/bin/uv"; else uv=uv; fi
fi
(cd "$root" && "$uv" run --frozen --no-sync python -m casefold_local.openapi --out "$out/openapi.json" >/dev/null)
"$here/node_modules/.bin/openapi-typescript" "$out/openapi.json" -o "$out/schema.d.ts" --root-types --root-types-no-schema-prefix >/dev/null
