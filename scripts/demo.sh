#!/usr/bin/env bash
# The main job on the embedded SQLite default (./pgo-ledger.db), over a real PyTorch 2.11
# TORCH_TRACE log the repo ships: ingest it, show the profile as PyTorch renders it, and
# explain why one input's dims became dynamic.
set -euo pipefail
cd "$(dirname "$0")/.."
ledger() { node bin/pgo-ledger.cjs "$@"; }
trace=test/fixtures/torch-2.11/traces/cold-local.log

echo "\$ pgo-ledger ingest $trace"
ledger ingest "$trace"
echo
echo "\$ pgo-ledger show --job fixture"
ledger show --job fixture
echo
echo "\$ pgo-ledger history --job fixture --source \"L['a']\""
ledger history --job fixture --source "L['a']"
echo
echo "\$ pgo-ledger history --job fixture --shapes --code f"
ledger history --job fixture --shapes --code f
echo
echo "\$ pgo-ledger why --job fixture --source \"L['x']\" --code forward"
ledger why --job fixture --source "L['x']" --code forward
echo
echo "\$ pgo-ledger export --job fixture --format megacache -o out/fixture.megacache.bin"
mkdir -p out
ledger export --job fixture --format megacache -o out/fixture.megacache.bin
ledger verify
