#!/usr/bin/env bash
# Vigil against its peers, on deterministic data, in one run.
#
#   bash bench/peers.sh [--quick] [--data DIR] [--build DIR] [--reps N]
#                       [--sets "A B"] [--no-cold] [--no-restic-b] [--tools "t1 t2"]
#                       [--skip-tools "t1 t2"] [--wait-load L]
#
#   --quick        1/10 of the data (smoke run: ~300 MiB + 20,000 files)
#   --data DIR     where data, prepared checksum files, repositories and results
#                  go (default /work/benchdata, outside the repository)
#   --build DIR    CMake build directory with bin/vigil, bin/vigil_floor and
#                  bin/vigil_datagen (default: build/ of this repository,
#                  configured with -DVIGIL_BUILD_BENCHMARKS=ON)
#   --reps N       warm repetitions per tool (default 3; the median is reported)
#   --sets "A B"   which data sets (default both)
#   --no-cold      skip the cold-cache runs
#   --no-restic-b  skip restic on set B
#   --tools        only these tools (names as in the table), e.g. for a re-run
#                  of the comparisons that matter: "cat vigil-reverify xxhsum vigil_floor"
#   --skip-tools   space-separated tool names to leave out
#   --wait-load L  before each warm round and each cold run, wait (up to 10
#                  minutes) until the 1-minute load average is below L: the
#                  machine is shared, and a busy core skews every figure
#
# Data sets (generated once by vigil_datagen, reused while their parameters
# match; seeded, so the same bytes on every run and machine):
#   A  ~3 GiB in 1,500 files of 256 KiB - 8 MiB (log-uniform sizes)
#   B  200,000 files of 1 - 8 KiB in 20 x 20 nested directories
#
# Warm runs: the data set and every tool's prepared files are locked in the
# page cache (vmtouch -l) for all the rounds of that set, then unlocked. The tools run
# in alternation within each round, N rounds; the median is reported.
# Cold runs: `vmtouch -e` of the data and the tool's files before each run
# (the kernel's dentry and inode caches stay warm: only file pages are
# evicted). Each run is timed with /usr/bin/time (wall seconds, max RSS).
#
# Output: a markdown table per set on stdout and in DATA/MODE/results-STAMP.md,
# raw figures (set, tool, cache, run, wall seconds, max RSS KiB, 1-min load
# average after the run, CPU seconds user + system) in
# DATA/MODE/results-STAMP.tsv, each tool's output in DATA/MODE/logs/.
#
# Formats (issue 5), on the same data: `restic` (restic check --read-data)
# against `vigil-restic` (vigil verify --format restic --read-data, no
# catalogue) and `vigil-restic-recheck` (a re-check with --catalogue after an
# untimed baseline: nothing new, no pack read; `-nokey`: the same without the
# password, names only: no key derived, nothing decrypted); `vigil-bagit` (a BagIt bag of
# set A, payload hard-linked, sha256 manifest) against `floor-sha256`
# (vigil_floor --sha256 -j 2: a bare two-thread OpenSSL SHA-256 pass).
#   bash bench/peers.sh --sets A --no-cold \
#     --tools "restic vigil-restic vigil-restic-recheck vigil-restic-recheck-nokey \
#              vigil-bagit floor-sha256"
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=/work/benchdata
BUILD=$REPO/build
MODE=full
REPS=3
SETS="A B"
COLD=1
RESTIC_B=1
SKIP=""
ONLY=""
WAIT_LOAD=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) MODE=quick ;;
    --data) DATA=$2; shift ;;
    --build) BUILD=$2; shift ;;
    --reps) REPS=$2; shift ;;
    --sets) SETS=$2; shift ;;
    --no-cold) COLD=0 ;;
    --no-restic-b) RESTIC_B=0 ;;
    --skip-tools) SKIP=$2; shift ;;
    --tools) ONLY=$2; shift ;;
    --wait-load) WAIT_LOAD=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "peers.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "peers.sh: no build directory $BUILD" >&2; exit 1; }
VIGIL=$BUILD/bin/vigil
FLOOR=$BUILD/bin/vigil_floor
DATAGEN=$BUILD/bin/vigil_datagen
for b in "$VIGIL" "$FLOOR" "$DATAGEN"; do
  if [[ ! -x $b ]]; then
    echo "peers.sh: $b missing: cmake -S $REPO -B $BUILD -G Ninja -DVIGIL_BUILD_BENCHMARKS=ON && ninja -C $BUILD -j2 vigil vigil_floor vigil_datagen" >&2
    exit 1
  fi
done
for t in hashdeep xxhsum b3sum sha256sum aide restic vmtouch /usr/bin/time; do
  if ! command -v "$t" >/dev/null; then
    echo "peers.sh: $t missing: bash scripts/install-deps --bench" >&2
    exit 1
  fi
done

if [[ $MODE == quick ]]; then
  A_FILES=150; A_BYTES=$((3 * 1024 * 1024 * 1024 / 10)); B_FILES=20000
else
  A_FILES=1500; A_BYTES=$((3 * 1024 * 1024 * 1024)); B_FILES=200000
fi
ROOT=$DATA/$MODE
LOGS=$ROOT/logs
mkdir -p "$ROOT" "$LOGS"
STAMP=$(date +%Y%m%d-%H%M%S)
TSV=$ROOT/results-$STAMP.tsv
MD=$ROOT/results-$STAMP.md
: >"$TSV"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
skipped() { [[ " $SKIP " == *" $1 "* ]] || [[ -n $ONLY && " $ONLY " != *" $1 "* ]]; }
load1() { cut -d' ' -f1 /proc/loadavg; }
wait_quiet() {
  [[ -z $WAIT_LOAD ]] && return 0
  local i
  for i in $(seq 1 120); do
    awk -v l="$(load1)" -v m="$WAIT_LOAD" 'BEGIN { exit !(l < m) }' && return 0
    ((i == 1)) && log "waiting for the load average ($(load1)) to drop below $WAIT_LOAD"
    sleep 5
  done
  log "load still $(load1) after 10 minutes: measuring anyway"
}

# --- data -------------------------------------------------------------------
generate() {  # SET ARGS...: (re)generates ROOT/SET unless it matches ARGS
  local set=$1; shift
  local marker=$ROOT/.$set.generated want="$*"
  if [[ -f $marker && $(cat "$marker") == "$want" && -d $ROOT/$set ]]; then
    log "data set $set: present ($want)"
    return
  fi
  log "data set $set: generating ($want)"
  rm -rf "${ROOT:?}/$set" "$ROOT/prep-$set"
  (cd "$ROOT" && "$DATAGEN" "$@")
  sync
  echo "$want" >"$marker"
}

# --- preparation (once per data set, reused) ----------------------------------
prepare() {  # SET
  local set=$1 dir=$ROOT/$1 prep=$ROOT/prep-$1
  mkdir -p "$prep"
  if [[ ! -s $prep/sums.xxh ]]; then
    log "$set: xxhsum -H2 list"
    (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 xxhsum -H2 2>/dev/null) >"$prep/sums.xxh.tmp"
    mv "$prep/sums.xxh.tmp" "$prep/sums.xxh"
  fi
  if [[ ! -s $prep/sums.b3 ]]; then
    log "$set: b3sum list"
    (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 b3sum 2>/dev/null) >"$prep/sums.b3.tmp"
    mv "$prep/sums.b3.tmp" "$prep/sums.b3"
  fi
  if [[ ! -s $prep/sums.sha256 ]]; then
    log "$set: sha256sum list"
    (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$prep/sums.sha256.tmp"
    mv "$prep/sums.sha256.tmp" "$prep/sums.sha256"
  fi
  if [[ ! -s $prep/known.hashdeep ]]; then
    log "$set: hashdeep known file (sha256)"
    (cd "$dir" && hashdeep -c sha256 -r -l .) >"$prep/known.hashdeep.tmp"
    mv "$prep/known.hashdeep.tmp" "$prep/known.hashdeep"
  fi
  if [[ ! -s $prep/aide.db ]]; then
    log "$set: aide database (sha256 + size, mtime, inode, link count)"
    cat >"$prep/aide.conf" <<EOF
database_in=file:$prep/aide.db
database_out=file:$prep/aide.db.new
gzip_dbout=no
report_url=stdout
num_workers=2
VIGILBENCH = s+m+i+n+sha256
$dir VIGILBENCH
EOF
    aide --config="$prep/aide.conf" --init >"$LOGS/aide-init-$set.log" 2>&1 || true
    [[ -s $prep/aide.db.new ]] || { echo "aide --init failed, see $LOGS/aide-init-$set.log" >&2; exit 1; }
    mv "$prep/aide.db.new" "$prep/aide.db"
  fi
  if want_restic "$set" && [[ ! -f $prep/restic.done ]]; then
    log "$set: restic repository"
    rm -rf "$prep/restic-repo"
    echo "vigil-bench-password" >"$prep/restic-pw"
    local t0=$SECONDS
    restic -r "$prep/restic-repo" --password-file "$prep/restic-pw" init >"$LOGS/restic-init-$set.log" 2>&1
    (cd "$dir" && restic -r "$prep/restic-repo" --password-file "$prep/restic-pw" \
        --cache-dir "$prep/restic-cache" backup --quiet .) >>"$LOGS/restic-init-$set.log" 2>&1
    log "$set: restic backup took $((SECONDS - t0)) s"
    touch "$prep/restic.done"
  fi
  if [[ $set == A ]] && ! skipped vigil-bagit && [[ ! -f $prep/bag.done ]]; then
    # A BagIt bag of the data set: the payload hard-linked (no copy), the
    # manifest from the sha256sum list.
    log "$set: BagIt bag (hard links, manifest-sha256.txt)"
    rm -rf "$prep/bag"
    mkdir -p "$prep/bag"
    cp -al "$dir" "$prep/bag/data"
    printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' >"$prep/bag/bagit.txt"
    sed 's|  \./|  data/|' "$prep/sums.sha256" >"$prep/bag/manifest-sha256.txt"
    touch "$prep/bag.done"
  fi
  sync
}

want_restic() { [[ $1 == A || $RESTIC_B == 1 ]] && ! skipped restic; }

# --- the tools ------------------------------------------------------------------
# cmd_for TOOL SET: the shell command that runs TOOL on SET (run by bash -c).
cmd_for() {
  local tool=$1 set=$2 dir=$ROOT/$2 prep=$ROOT/prep-$2
  case "$tool" in
    vigil-baseline) echo "rm -rf '$prep/vigil-cat' && exec '$VIGIL' verify '$dir' --catalogue '$prep/vigil-cat' --no-progress" ;;
    vigil-reverify) echo "exec '$VIGIL' verify '$dir' --catalogue '$prep/vigil-cat' --no-progress" ;;
    vigil_floor) echo "exec '$FLOOR' '$dir'" ;;
    cat) echo "find '$dir' -type f -print0 | xargs -0 cat >/dev/null" ;;
    xxhsum) echo "cd '$dir' && exec xxhsum -c --quiet '$prep/sums.xxh'" ;;
    b3sum) echo "cd '$dir' && exec b3sum --check --quiet '$prep/sums.b3'" ;;
    sha256sum) echo "cd '$dir' && exec sha256sum -c --quiet '$prep/sums.sha256'" ;;
    hashdeep) echo "cd '$dir' && exec hashdeep -c sha256 -r -l -a -k '$prep/known.hashdeep' ." ;;
    aide) echo "exec aide --config='$prep/aide.conf' --check" ;;
    restic) echo "exec restic -r '$prep/restic-repo' --password-file '$prep/restic-pw' check --read-data" ;;
    vigil-restic) echo "exec '$VIGIL' verify --format restic --read-data '$prep/restic-repo' --password-file '$prep/restic-pw'" ;;
    vigil-restic-recheck) echo "exec '$VIGIL' verify --format restic '$prep/restic-repo' --password-file '$prep/restic-pw' --catalogue '$prep/vigil-restic-cat'" ;;
    vigil-restic-recheck-nokey) echo "exec '$VIGIL' verify --format restic '$prep/restic-repo' --catalogue '$prep/vigil-restic-cat'" ;;
    vigil-bagit) echo "exec '$VIGIL' verify --format bagit '$prep/bag'" ;;
    floor-sha256) echo "exec '$FLOOR' '$prep/bag/data' --sha256 -j 2" ;;
  esac
}

# Files a tool reads besides the data set (locked for warm runs, evicted for
# cold runs).
extra_files() {
  local tool=$1 prep=$ROOT/prep-$2
  case "$tool" in
    vigil-reverify) [[ -d $prep/vigil-cat ]] && echo "$prep/vigil-cat" ;;
    xxhsum) echo "$prep/sums.xxh" ;;
    b3sum) echo "$prep/sums.b3" ;;
    sha256sum) echo "$prep/sums.sha256" ;;
    hashdeep) echo "$prep/known.hashdeep" ;;
    aide) echo "$prep/aide.db" ;;
    restic | vigil-restic | vigil-restic-recheck) echo "$prep/restic-repo" ;;
  esac
  [[ $tool == vigil-restic-recheck* && -d $prep/vigil-restic-cat ]] && echo "$prep/vigil-restic-cat"
  return 0
}

WARM_TOOLS="vigil-baseline cat vigil-reverify xxhsum vigil_floor b3sum hashdeep sha256sum aide restic vigil-restic vigil-restic-recheck vigil-restic-recheck-nokey vigil-bagit floor-sha256"
COLD_TOOLS="cat vigil-reverify xxhsum vigil_floor"

tools_for() {  # SET LIST
  local t out=""
  for t in $2; do
    skipped "$t" && continue
    [[ $t == restic || $t == vigil-restic* ]] && ! want_restic "$1" && continue
    [[ $t == vigil-bagit || $t == floor-sha256 ]] && [[ $1 != A ]] && continue
    out+="$t "
  done
  echo "$out"
}

# measure SET TOOL CACHE REP: one timed run, appended to the TSV.
measure() {
  local set=$1 tool=$2 cache=$3 rep=$4 cmd tf rc
  cmd=$(cmd_for "$tool" "$set")
  tf=$(mktemp)
  local logf=$LOGS/$set-$tool-$cache-$rep.log
  if [[ $cache == cold ]]; then
    wait_quiet
    # shellcheck disable=SC2046
    vmtouch -q -e "$ROOT/$set" $(extra_files "$tool" "$set") >/dev/null
  fi
  rc=0
  /usr/bin/time -f '%e %M %U %S' -o "$tf" bash -c "$cmd" >"$logf" 2>&1 || rc=$?
  local secs kb user sys
  read -r secs kb user sys < <(tail -n 1 "$tf")
  rm -f "$tf"
  if [[ $rc != 0 ]]; then
    log "WARNING: $tool on $set ($cache) exited $rc, see $logf"
    secs="FAIL"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$set" "$tool" "$cache" "$rep" "$secs" "$kb" "$(load1)" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" >>"$TSV"
  log "$set $cache $tool #$rep: ${secs} s, $((kb / 1024)) MiB"
}

# The first `vigil verify` after a baseline replays the baseline's write-ahead
# log when it opens the catalogue; the steady state of a backup's life is a
# re-verify after a re-verify. So after each timed baseline, one untimed
# re-verify "settles" the catalogue, and the timed re-verify measures the
# steady state.
settle_vigil() {  # SET
  local set=$1 prep=$ROOT/prep-$1
  if [[ ! -d $prep/vigil-cat ]]; then
    "$VIGIL" verify "$ROOT/$set" --catalogue "$prep/vigil-cat" --no-progress >"$LOGS/$set-settle.log" 2>&1
  fi
  "$VIGIL" verify "$ROOT/$set" --catalogue "$prep/vigil-cat" --no-progress >>"$LOGS/$set-settle.log" 2>&1
}

lock_pid=""
lock_set() {  # SET: lock the data set and every prepared file in memory
  local set=$1 prep=$ROOT/prep-$1 n
  n=$(find "$ROOT/$set" "$prep" -type f | wc -l)
  # vmtouch -l keeps one mapping per file: B needs more than the default 65530.
  local need=$((n + 20000)) have
  have=$(cat /proc/sys/vm/max_map_count)
  if ((have < need)); then
    log "raising vm.max_map_count from $have to $need for vmtouch -l ($n files)"
    sysctl -q -w vm.max_map_count=$need
  fi
  local pidfile=$ROOT/vmtouch-$set.pid
  rm -f "$pidfile"
  vmtouch -q -l -d -w -P "$pidfile" "$ROOT/$set" "$prep"
  for _ in $(seq 1 600); do [[ -s $pidfile ]] && break; sleep 0.1; done
  lock_pid=$(cat "$pidfile")
  log "$set: locked in memory by vmtouch pid $lock_pid"
}
unlock() {
  if [[ -n $lock_pid ]]; then
    kill "$lock_pid" 2>/dev/null || true
    lock_pid=""
  fi
}
trap unlock EXIT

# --- run ------------------------------------------------------------------------
log "mode $MODE, data $ROOT, $REPS warm repetitions, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for set in $SETS; do
  case $set in
    A) generate A large A "$A_FILES" "$A_BYTES" 1 ;;
    B) generate B small B "$B_FILES" 2 ;;
    *) echo "unknown set $set" >&2; exit 2 ;;
  esac
  prepare "$set"
done

for set in $SETS; do
  tools=$(tools_for "$set" "$WARM_TOOLS")
  lock_set "$set"
  [[ " $tools " == *" vigil-reverify "* ]] && settle_vigil "$set"
  if [[ " $tools " == *" vigil-restic-recheck"* ]]; then
    # The re-check's baseline: one untimed run records every pack.
    rm -rf "$ROOT/prep-$set/vigil-restic-cat"
    "$VIGIL" verify --format restic "$ROOT/prep-$set/restic-repo" --password-file "$ROOT/prep-$set/restic-pw" \
      --catalogue "$ROOT/prep-$set/vigil-restic-cat" >"$LOGS/$set-restic-settle.log" 2>&1 || true
  fi
  for rep in $(seq 1 "$REPS"); do
    wait_quiet
    log "$set warm round $rep/$REPS (load $(cut -d' ' -f1-3 /proc/loadavg))"
    for tool in $tools; do
      measure "$set" "$tool" warm "$rep"
      [[ $tool == vigil-baseline ]] && settle_vigil "$set"
    done
  done
  unlock
  if [[ $COLD == 1 ]]; then
    for tool in $(tools_for "$set" "$COLD_TOOLS"); do measure "$set" "$tool" cold 1; done
  fi
done

# --- report -----------------------------------------------------------------------
bytes_of() { du -sb --apparent-size "$ROOT/$1" | cut -f1; }
files_of() { find "$ROOT/$1" -type f | wc -l; }
{
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r); load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  for set in $SETS; do
    echo
    echo "### Set $set: $(files_of "$set") files, $(($(bytes_of "$set") / 1048576)) MiB ($MODE)"
    echo
    awk -F'\t' -v set="$set" -v bytes="$(bytes_of "$set")" '
      function median(s,    a, n, i, j, t) {
        n = split(s, a, " ")
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      }
      $1 != set { next }
      {
        key = $2; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
        if ($5 == "FAIL") { fail[key] = 1; next }
        if ($3 == "warm") { warm[key] = warm[key] (warm[key] == "" ? "" : " ") $5; if ($6 > rss[key]) rss[key] = $6
          load[key] = load[key] (load[key] == "" ? "" : " ") $7
          cpu[key] = cpu[key] (cpu[key] == "" ? "" : " ") $8 }
        else { cold[key] = $5; crss[key] = $6 }
      }
      END {
        if ("cat" in warm) catw = median(warm["cat"]); if ("xxhsum" in warm) xxw = median(warm["xxhsum"])
        if ("cat" in cold) catc = cold["cat"]; if ("xxhsum" in cold) xxc = cold["xxhsum"]
        print "| tool | warm s (median) | warm runs | warm MB/s | warm CPU s (median) | max RSS MiB | ÷ cat warm | ÷ xxhsum warm | cold s | ÷ cat cold | ÷ xxhsum cold | load (warm) |"
        print "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        for (i = 1; i <= n; i++) {
          k = order[i]
          if (k in warm) { m = median(warm[k]); ws = sprintf("%.2f", m); mbs = sprintf("%.0f", bytes / m / 1e6)
            rc = catw ? sprintf("%.2f", m / catw) : "–"; rx = xxw ? sprintf("%.2f", m / xxw) : "–"
            rs = sprintf("%.0f", rss[k] / 1024); cp = cpu[k] == "" ? "–" : sprintf("%.2f", median(cpu[k])) }
          else { ws = mbs = rc = rx = rs = cp = "–" }
          if (k in cold) { cs = sprintf("%.2f", cold[k]); cc = catc ? sprintf("%.2f", cold[k] / catc) : "–"
            cx = xxc ? sprintf("%.2f", cold[k] / xxc) : "–"; if (!(k in warm)) rs = sprintf("%.0f", crss[k] / 1024) }
          else { cs = cc = cx = "–" }
          if (k in fail) ws = ws " (FAILED run)"
          printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k, ws, warm[k], mbs, cp, rs, rc, rx, cs, cc, cx, load[k]
        }
      }' "$TSV"
    # Under a shared machine's noise, ratios of runs of the same round are
    # steadier than ratios of medians.
    echo
    for pair in "vigil-reverify cat" "vigil-reverify xxhsum" "vigil-reverify vigil_floor" \
        "vigil_floor xxhsum" "vigil-baseline xxhsum" "restic vigil-restic" \
        "restic vigil-restic-recheck" "restic vigil-restic-recheck-nokey" \
        "vigil-bagit floor-sha256"; do
      # shellcheck disable=SC2086
      awk -F'\t' -v s="$set" -v a="${pair% *}" -v b="${pair#* }" '
        $1 == s && $3 == "warm" && $5 != "FAIL" { t[$2, $4] = $5; if ($4 > n) n = $4 }
        END {
          m = 0
          for (r = 1; r <= n; r++) if (((a, r) in t) && ((b, r) in t) && t[b, r] > 0) v[++m] = t[a, r] / t[b, r]
          if (!m) exit
          for (i = 2; i <= m; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
          med = m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
          printf "- %s ÷ %s, same round: median %.2f (", a, b, med
          for (i = 1; i <= m; i++) printf "%s%.2f", (i > 1 ? " " : ""), v[i]
          print ")"
        }' "$TSV"
    done
  done
} | tee "$MD"
log "results: $MD (raw: $TSV, logs: $LOGS)"
