#!/usr/bin/env bash
# Extract the EMOVO corpus (Italian, 6 actors f1-f3/m1-m3, 7 emotions, 588 wavs)
# from a bare git mirror of github.com/fp1acm8/SER (audio under data/EMOVO/<speaker>/).
# Usage: prepare_emovo.sh <mirror-git-dir> [out-dir]   (out-dir default: /work/data/emovo)
# Output: <out>/<label>/<speaker>_<original-name>.wav, speaker regex: ^([fm][1-3])_
set -euo pipefail
MIRROR=${1:?usage: $0 <mirror-git-dir> [out-dir]}
OUT=${2:-/work/data/emovo}
REV=${REV:-HEAD}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
git --git-dir="$MIRROR" archive "$REV" data/EMOVO | tar -x -C "$tmp"
declare -A MAP=([neu]=neutral [gio]=happy [tri]=sad [rab]=angry [sor]=surprised [dis]=disgusted [pau]=scared)
rm -rf "$OUT"; for l in "${MAP[@]}"; do mkdir -p "$OUT/$l"; done
n=0; bad=0
for f in "$tmp"/data/EMOVO/*/*.wav; do
  name=$(basename "$f"); spk=$(basename "$(dirname "$f")")
  code=${name%%-*}; label=${MAP[$code]:-}
  [[ -n "$label" ]] || { echo "skip (unknown code): $name" >&2; continue; }
  if [[ "$(head -c 4 "$f")" != RIFF ]]; then echo "skip (not RIFF, LFS pointer?): $spk/$name" >&2; bad=$((bad+1)); continue; fi
  mv "$f" "$OUT/$label/${spk}_${name}"; n=$((n+1))
done
echo "EMOVO: $n files written to $OUT ($bad non-RIFF skipped)"
for l in "$OUT"/*/; do printf '  %-10s %s\n' "$(basename "$l")" "$(ls "$l" | wc -l)"; done
