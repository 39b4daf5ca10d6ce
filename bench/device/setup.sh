#!/usr/bin/env bash
# On the lent GPU machine (16 cores, no Node, no PostgreSQL, no network): sets up Node 20 (this
# machine's binary), the production node_modules, dist/ and PostgreSQL (Debian 12's binaries and
# the libraries they link) from the bundle bundle.sh made. Run from the repository root, then
# `source /tmp/devbench/env.sh` and `node dist/bench.mjs writers postgres`.
set -euo pipefail
here=${BUNDLE:-out/devbench}; T=/tmp/devbench; mkdir -p $T/pg
x() { python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"; }
python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$here/node.xz" $T/node; chmod +x $T/node
x "$here/nm.tar.xz" .
rm -rf dist; x "$here/dist.tar.xz" .  # never a dist/ an earlier call left there
x "$here/pg.tar.xz" $T/pg
v=$(ls $T/pg/usr/lib/postgresql); [ -d /usr/lib/postgresql/$v ] || { mkdir -p /usr/lib/postgresql /usr/share/postgresql; cp -a $T/pg/usr/lib/postgresql/$v /usr/lib/postgresql/; cp -a $T/pg/usr/share/postgresql/$v /usr/share/postgresql/; }
[ -d /usr/share/zoneinfo/Etc ] || x "$here/zoneinfo.tar.xz" /usr/share
id postgres >/dev/null 2>&1 || useradd -r -M -d /tmp postgres
chmod 755 $T $T/pg $T/pg/pglibs
cat > $T/env.sh <<EOT
export PATH=$T:\$PATH LD_LIBRARY_PATH=$T/pg/pglibs
EOT
echo "setup: $(id -un), $(nproc) cores, node $($T/node --version), $(LD_LIBRARY_PATH=$T/pg/pglibs /usr/lib/postgresql/$v/bin/postgres --version)"
