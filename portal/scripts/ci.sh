#!/bin/sh
# The portal's part of `make test`: install (npm ci, only when node_modules is missing or package-lock.json changed),
# lint and format check, type check, unit tests, and the check that the generated API client matches the services.
set -eu
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "portal: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
echo "portal: lint"
npm run -s lint
echo "portal: typecheck"
npm run -s typecheck
echo "portal: unit tests"
npm run -s test
echo "portal: API client drift"
npm run -s check:api
