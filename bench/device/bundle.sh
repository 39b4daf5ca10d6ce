#!/usr/bin/env bash
# Makes out/devbench/, the bundle setup.sh unpacks on the lent GPU machine so that the writers
# rows can be measured where there are cores for them (this machine has 2): this machine's Node
# (stripped, xz), the production node_modules, dist/ without maps, and PostgreSQL 15's server,
# initdb, pg_ctl and psql with the shared libraries they link (not glibc's). It has to stay under
# the device's 64 MiB with the tracked tree: carry only out/devbench.
#   npm run build && bash bench/device/bundle.sh
#   device: bash bench/device/setup.sh && source /tmp/devbench/env.sh && node dist/bench.mjs writers postgres --rounds 3
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd); out=$root/out/devbench; tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
cp "$(readlink -f "$(command -v node)")" "$tmp/node"; strip "$tmp/node"; xz -6 -T1 -c "$tmp/node" >"$out/node.xz"
cp "$root/package.json" "$root/package-lock.json" "$tmp/"
# --ignore-scripts: the project's own prepare (a build) needs its sources; better-sqlite3's install runs by rebuild
(cd "$tmp" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null && npm rebuild better-sqlite3 >/dev/null)
bs=$tmp/node_modules/better-sqlite3; cp "$bs/build/Release/better_sqlite3.node" "$tmp/addon.node"
rm -rf "$bs/deps" "$bs/src" "$bs/build"; mkdir -p "$bs/build/Release"; mv "$tmp/addon.node" "$bs/build/Release/better_sqlite3.node"  # the addon alone: the 64 MiB
find "$tmp/node_modules" -name '*.map' -delete
tar cf - -C "$tmp" node_modules | xz -6 -T1 >"$out/nm.tar.xz"
tar cf - -C "$root" --exclude='*.map' --exclude=types --exclude='*.tsbuildinfo' dist | xz -6 -T1 >"$out/dist.tar.xz"
pg=$(ls -d /usr/lib/postgresql/*/ | sort -V | tail -1); v=$(basename "$pg")
mkdir -p "$tmp/pg/usr/lib/postgresql/$v/bin" "$tmp/pg/usr/share/postgresql" "$tmp/pg/pglibs"
cp -a "$pg/lib" "$tmp/pg/usr/lib/postgresql/$v/"; rm -rf "$tmp/pg/usr/lib/postgresql/$v/lib/bitcode" "$tmp/pg/usr/lib/postgresql/$v/lib/"llvmjit*
for b in postgres initdb pg_ctl psql; do cp -a "$pg/bin/$b" "$tmp/pg/usr/lib/postgresql/$v/bin/"; done
cp -a "/usr/share/postgresql/$v" "$tmp/pg/usr/share/postgresql/"
for b in postgres psql initdb pg_ctl; do ldd "$pg/bin/$b"; done | awk '/=>/{print $3}' | sort -u \
  | grep -v -E 'libc\.so|libm\.so|ld-linux|libresolv|libpthread|libdl\.so|libstdc|libgcc_s' | while read -r l; do cp -L "$l" "$tmp/pg/pglibs/"; done
tar cf - -C "$tmp/pg" . | xz -9 -T1 >"$out/pg.tar.xz"
tar cf - -C /usr/share zoneinfo | xz -6 -T1 >"$out/zoneinfo.tar.xz"
du -sh "$out"
