#!/usr/bin/env bash
# tools/golden.sh BIN DIR: fixed-seed outputs of every shipped scenario and command (run with
# --export-patients, 3 shards + merge, psa and owsa where there is [psa], check of every
# target file, all with figures) into DIR, to compare byte for byte with
# tools/golden_compare.sh before and after a refactor or an optimisation. Exit codes of each
# command are in DIR/rc.txt (calibration/fit.toml is a fit file, so its `check` exits 2).
set -uo pipefail
B=$(readlink -f "$1")
D=$(realpath -m "$2")
rm -rf "$D"
mkdir -p "$D"
cd "${ROOT:-$(dirname "$0")/..}"
P=4000
for s in scenarios/*.toml; do
    n=$(basename "$s" .toml)
    "$B" run "$s" -n $P -s 7 -q -t 2 --out "$D/run_$n" --export-patients "$D/run_$n.patients.csv" >/dev/null 2>"$D/run_$n.err"
    echo "run $n rc=$?" >>"$D/rc.txt"
    for k in 0 1 2; do
        "$B" run "$s" -n $P -s 7 -q -t 1 --shard $k/3 --out "$D/parts_$n" >/dev/null 2>>"$D/parts_$n.err"
    done
    "$B" merge "$D/parts_$n" -q --out "$D/merge_$n" >/dev/null 2>"$D/merge_$n.err"
    echo "merge $n rc=$?" >>"$D/rc.txt"
    if grep -q '^\[psa\]' "$s"; then
        "$B" psa "$s" -n 1000 -d 20 -s 7 -q -t 2 --out "$D/psa_$n" >/dev/null 2>"$D/psa_$n.err"
        echo "psa $n rc=$?" >>"$D/rc.txt"
        "$B" owsa "$s" -n 1000 -s 7 -q -t 2 --out "$D/owsa_$n" >/dev/null 2>"$D/owsa_$n.err"
        echo "owsa $n rc=$?" >>"$D/rc.txt"
    fi
done
for t in calibration/*.toml; do
    n=$(basename "$t" .toml)
    "$B" check "$t" -n 2000 -s 7 -q -t 2 --out "$D/check_$n" >/dev/null 2>"$D/check_$n.err"
    echo "check $n rc=$?" >>"$D/rc.txt"
done
