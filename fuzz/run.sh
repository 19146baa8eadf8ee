#!/usr/bin/env bash
# Fuzzes hsctsim's scenario loader, rule compiler, composition of `extends` chains and
# part reader with libFuzzer, on stable Rust and no tools beyond cargo and a C++ compiler
# (libfuzzer-sys builds libFuzzer from source).
#
#   fuzz/run.sh                      # every target, 20 s each (the CI smoke run)
#   fuzz/run.sh scenario 3600        # one target for an hour
#   fuzz/run.sh rule 600 -jobs=2     # extra arguments go to libFuzzer
#
# Coverage instrumentation uses only stable rustc flags (-Cpasses=sancov-module and LLVM's
# sanitizer-coverage options, as cargo-fuzz does), without AddressSanitizer: the code is
# safe Rust, so what the fuzzer looks for is panics, aborts, hangs and runaway memory.
# (Hence libFuzzer's harmless warning that it cannot find __sanitizer_* functions.)
# (`cargo fuzz run scenario` with RUSTC_BOOTSTRAP=1 adds ASan; see the README.)
#
# If this machine cannot fuzz — no C++ compiler, crates.io out of reach for libfuzzer-sys,
# or libFuzzer failing to build — the script says why and exits 0, so CI on such a machine
# passes; HSCTSIM_REQUIRE_FUZZ=1 makes that a failure. Once libFuzzer is built, a failure to
# build our targets, or a crash, fails: crashing inputs are kept in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"

targets=("${1:-scenario}")
if [[ $# -eq 0 ]]; then
    targets=(scenario rule compose part)
fi
seconds=${2:-20}
shift $(($# > 2 ? 2 : $#))
extra=("$@")

skip() {
    echo "fuzz: skipped: $*"
    if [[ "${HSCTSIM_REQUIRE_FUZZ:-0}" == 1 ]]; then
        echo "fuzz: HSCTSIM_REQUIRE_FUZZ=1, so a skip is a failure"
        exit 1
    fi
    exit 0
}

command -v cargo >/dev/null || skip "cargo is not installed"
cxx=""
for candidate in "${CXX:-}" c++ g++ clang++; do
    if [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null; then
        cxx=$candidate
        break
    fi
done
[[ -n "$cxx" ]] || skip "no C++ compiler (libFuzzer is C++): install g++ or clang"
if ! fetched=$(cargo fetch --manifest-path Cargo.toml 2>&1); then
    skip "cannot fetch libfuzzer-sys from crates.io: $(grep -m 1 -i 'error' <<<"$fetched" || tail -n 1 <<<"$fetched")"
fi
host=$(rustc -vV | sed -n 's/^host: //p')

# The flags cargo-fuzz passes, minus the unstable sanitizer. --target keeps them off build
# scripts and proc macros (serde's derive), which must not be instrumented.
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks -Cforce-frame-pointers"
export CXX=$cxx

# libFuzzer itself (C++, built by the libfuzzer-sys crate) first: if it cannot be built on
# this machine, that is this machine's limit, not a fault of ours.
if ! built=$(cargo build --release --manifest-path Cargo.toml --target "$host" -p libfuzzer-sys 2>&1); then
    skip "libFuzzer does not build here: $(grep -m 1 -E 'error|warning: ' <<<"$built" | cut -c1-300)"
fi

for target in "${targets[@]}"; do
    echo "== fuzz: building $target ($host, stable rustc with coverage instrumentation)"
    cargo build --release --manifest-path Cargo.toml --target "$host" --bin "$target"
    binary="target/$host/release/$target"

    # Seeds: the shipped scenarios and fixtures (valid) for the loader; rule texts for rules.
    corpus="corpus/$target"
    mkdir -p "$corpus" "artifacts/$target"
    if [[ "$target" == scenario ]]; then
        cp ../scenarios/*.toml ../tests/fixtures/*.toml "$corpus"/
    elif [[ "$target" == compose ]]; then
        # Files split at a `%%%` line: each shipped scenario alone, and under a file that
        # extends it (a chain of two, ending in the built-in model for most).
        for f in ../scenarios/*.toml ../tests/fixtures/*.toml; do
            cp "$f" "$corpus/"
            printf '[scenario]\nextends = "f1.toml"\nname = "chain"\n\n[simulation]\nseed = 2\n\n%%%%%%\n' |
                cat - "$f" >"$corpus/chain-$(basename "$f")"
        done
    elif [[ "$target" == part ]]; then
        # Real parts of a small scenario, written by the target itself (this build).
        HSCTSIM_PART_SEEDS="$corpus" "./$binary"
    else
        printf '%s' "remission >= 6m and age < 70" >"$corpus/seed-1"
        printf '%s' "disease in ['AML', 'ALL'] or not cgvhd" >"$corpus/seed-2"
        printf '%s' "time_since('hsct2') > 3m and visits('relapse') >= 2" >"$corpus/seed-3"
        printf '%s' "(age - 45) / 10 * 2" >"$corpus/seed-4"
    fi

    echo "== fuzz: $target for ${seconds} s"
    "./$binary" "$corpus" \
        -dict="$target.dict" \
        -max_total_time="$seconds" \
        -max_len=16384 \
        -timeout=10 \
        -rss_limit_mb=2048 \
        -artifact_prefix="artifacts/$target/" \
        -print_final_stats=1 \
        "${extra[@]}"
done
echo "fuzz: no crash found"
