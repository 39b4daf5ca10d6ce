#!/usr/bin/env bash
# Issue 11.3's "passes 20 times in a row": runs the concurrent-follower test (8 writer processes
# x 50k observations and a follower process on a PostgreSQL server of its own) 20 times and
# prints the pass count. PGO_LEDGER_FOLLOW_WRITERS / PGO_LEDGER_FOLLOW_LINES make it smaller;
# RUNS=n runs it n times.
set -u
cd "$(dirname "$0")/.."
node scripts/build.mjs >/dev/null || exit 1
runs=${RUNS:-20}
pass=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  if node scripts/with-postgres.mjs node --import tsx --test --test-name-pattern='issue 11.3: postgres: [0-9]+ writer processes' src/store/follow.int.test.ts >"/tmp/follower-20.$i.log" 2>&1; then
    pass=$((pass + 1))
    echo "run $i: pass ($(($(date +%s) - start)) s) $(grep -o 'postgres: [0-9]* x [0-9]*: .*' "/tmp/follower-20.$i.log" | head -1)"
  else
    echo "run $i: FAIL ($(($(date +%s) - start)) s): see /tmp/follower-20.$i.log"
  fi
done
echo "follower test: $pass of $runs passed"
[ "$pass" -eq "$runs" ]
