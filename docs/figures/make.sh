#!/usr/bin/env bash
# Re-renders the README's example figures from the 4-strategy test fixture, the worked
# example's from scenarios/donor_policy.toml (and the calibration figure from `hsctsim check`):
#   bash docs/figures/make.sh
# With ImageMagick (`magick` or `convert-im6.q16`) the print-size figures are scaled down to
# 1000 pixels and reduced to 64 colours (no dithering), so the repository stays small; without it they are
# rendered 1000 pixels wide directly (the layout is the same, scaled).
set -euo pipefail
cd "$(dirname "$0")/../.."
run=target/docs/figure_strategies
cargo run --release --quiet -- run tests/fixtures/figure_strategies.toml --out "$run" \
    --patients 100000 --force --quiet --no-figures
im=$(command -v magick || command -v convert-im6.q16 || true)
width=()
[ -z "$im" ] && width=(--width 1000)
plot() { cargo run --release --quiet -- plot "$run" --format png --quiet "${width[@]}" "$@"; }
plot --origin entry --measure os,occupancy --landmark 24
plot --origin hsct2 --measure lfs,cir,nrm
# The calibration figure: an excerpt of the real check (four studies, so it stays readable);
# `hsctsim plot` draws a folder holding only a check.csv.
check=target/docs/check
cargo run --release --quiet -- check calibration/targets.toml --out "$check" --force --quiet --no-figures >/dev/null
mkdir -p "$check/excerpt"
{ head -n 1 "$check/check.csv"
  grep -E '^(Lee \[11\]|EBMT ALWP \[12\]|Srour \[22\]|CIBMTR \[74\]),' "$check/check.csv"; } > "$check/excerpt/check.csv"
cargo run --release --quiet -- plot "$check/excerpt" --format png --quiet "${width[@]}"
cp "$check/excerpt/figures/calibration.png" "$run/figures/calibration.png"
for f in os_entry occupancy_entry lfs_hsct2 cir_hsct2 nrm_hsct2 calibration; do
    if [ -n "$im" ]; then
        "$im" "$run/figures/$f.png" -resize 1000x +dither -colors 64 -quality 95 "docs/figures/$f.png"
    else
        cp "$run/figures/$f.png" "docs/figures/$f.png"
    fi
done
# The worked example: overall survival since HSCT2 by donor (scenarios/donor_policy.toml).
donor=target/docs/donor_policy
cargo run --release --quiet -- run scenarios/donor_policy.toml --out "$donor" --force --quiet --no-figures
cargo run --release --quiet -- plot "$donor" --format png --quiet "${width[@]}" --origin hsct2 --measure os
if [ -n "$im" ]; then
    "$im" "$donor/figures/os_hsct2.png" -resize 1000x +dither -colors 64 -quality 95 docs/figures/donor_policy_os_hsct2.png
else
    cp "$donor/figures/os_hsct2.png" docs/figures/donor_policy_os_hsct2.png
fi
# The health-economics example (illustrative values): CE plane and tornado.
cea=target/docs/donor_policy_cea
cargo run --release --quiet -- psa scenarios/donor_policy_cea.toml --out "$cea/psa" --force --quiet
cargo run --release --quiet -- owsa scenarios/donor_policy_cea.toml --out "$cea/owsa" --force --quiet
for f in "$cea/psa/figures/ce_plane.png" "$cea/owsa/figures/tornado.png"; do
    if [ -n "$im" ]; then
        "$im" "$f" -resize 1000x +dither -colors 64 -quality 95 "docs/figures/$(basename "$f")"
    else
        cargo run --release --quiet -- plot "$(dirname "$(dirname "$f")")" --format png --quiet --width 1000
        cp "$f" "docs/figures/$(basename "$f")"
    fi
done
ls -l docs/figures/*.png
