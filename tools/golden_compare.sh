#!/usr/bin/env bash
# tools/golden_compare.sh A B: byte comparison of two folders made by tools/golden.sh; prints
# only the files that differ (timings in manifests, part files and check.txt aside), then
# "compare done".
A=$1
B=$2
norm() {
    sed -E 's/"(elapsed|seconds|wall|duration|started|finished|date|time|host|threads_used|patients_per_second|created)[a-z_]*": *[^,}]*/"\1":X/g; s/, [0-9.]+ s\)/, X s)/' "$1"
}
diff -rq "$A" "$B" | grep -v 'manifest.json\|psa-part\|/part-\|check.txt\|calibrate.txt'
for f in $(cd "$A" && find . -name manifest.json -o -name '*part*.json' -o -name check.txt -o -name calibrate.txt); do
    if ! cmp -s <(norm "$A/$f" | sed "s#$A#D#g") <(norm "$B/$f" | sed "s#$B#D#g"); then
        echo "differs: $f"
    fi
done
echo "compare done"
