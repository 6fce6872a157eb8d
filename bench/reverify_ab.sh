#!/bin/bash
# A/B of two `vigil` binaries on a warm full re-verify of one data set, each
# followed by `xxhsum -c` in the same round, rounds interleaved (old, xxhsum,
# new, xxhsum) so that both see the same machine load. Prints wall, user and
# system seconds of every run and the 1-minute load at the start of each round.
#
#   OLD=path/to/old/vigil NEW=path/to/new/vigil [ROUNDS=5] \
#     bash bench/reverify_ab.sh DATA_DIR PREP_DIR
#
# DATA_DIR: the tree (e.g. set B of bench/peers.sh: /work/benchdata/full/B).
# PREP_DIR: holds sums.xxh (`xxhsum -H2` of every file of DATA_DIR, relative
#   paths, as bench/peers.sh prepares it) and receives the catalogue (cat/).
# The data and PREP_DIR are locked in memory (vmtouch -l) during the rounds;
# B needs vm.max_map_count above its 200,000 files. The catalogue is built by
# OLD if missing, then re-verified once by OLD and once by NEW before the
# rounds (settle: a NEW that records more per entry, e.g. the content sample
# of issue 19, writes it there once; that run's times are printed as
# "settle new").
set -euo pipefail
DATA=${1:?data dir} PREP=${2:?prep dir}
OLD=${OLD:?OLD=old vigil binary} NEW=${NEW:?NEW=new vigil binary} ROUNDS=${ROUNDS:-5}
CAT=$PREP/cat
[[ -s $PREP/sums.xxh ]] || { echo "no $PREP/sums.xxh" >&2; exit 1; }
T() { /usr/bin/time -f '%e %U %S' "$@" 2>&1 >/dev/null | tail -1; }
rm -f "$PREP/vmtouch.pid"
vmtouch -q -l -d -w -P "$PREP/vmtouch.pid" "$DATA" "$PREP"
for _ in $(seq 1 600); do [[ -s $PREP/vmtouch.pid ]] && break; sleep 0.1; done
LOCK=$(cat "$PREP/vmtouch.pid")
trap 'kill "$LOCK" 2>/dev/null || true' EXIT
echo "locked by vmtouch pid $LOCK; wall user sys (s)"
[[ -d $CAT ]] || "$OLD" verify "$DATA" --catalogue "$CAT" --no-progress >/dev/null
"$OLD" verify "$DATA" --catalogue "$CAT" --no-progress >/dev/null
echo "settle new $(T "$NEW" verify "$DATA" --catalogue "$CAT" --no-progress)"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r load $(cut -d' ' -f1 /proc/loadavg)"
  echo "  old    $(T "$OLD" verify "$DATA" --catalogue "$CAT" --no-progress)"
  echo "  xxhsum $(cd "$DATA" && T xxhsum -c --quiet "$PREP/sums.xxh")"
  echo "  new    $(T "$NEW" verify "$DATA" --catalogue "$CAT" --no-progress)"
  echo "  xxhsum $(cd "$DATA" && T xxhsum -c --quiet "$PREP/sums.xxh")"
done
