#!/usr/bin/env bash
# Extract the URDU emotional speech dataset (Latif et al. 2018; 400 wavs, 4 emotions)
# from a bare git mirror of github.com/siddiquelatif/URDU-Dataset (audio under Angry/ Happy/ Neutral/ Sad/).
# Usage: prepare_urdu.sh <mirror-git-dir> [out-dir]   (out-dir default: /work/data/urdu)
# Original names look like SM1_F10_A010.wav (S<gender><n>_F<file>_<emotion><n>).
# Output: <out>/<label>/<speaker>_<original-name>.wav, speaker regex: ^(S[MF][0-9]+)_
set -euo pipefail
MIRROR=${1:?usage: $0 <mirror-git-dir> [out-dir]}
OUT=${2:-/work/data/urdu}
REV=${REV:-HEAD}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
git --git-dir="$MIRROR" archive "$REV" Angry Happy Neutral Sad | tar -x -C "$tmp"
declare -A MAP=([Angry]=angry [Happy]=happy [Neutral]=neutral [Sad]=sad)
rm -rf "$OUT"; for l in "${MAP[@]}"; do mkdir -p "$OUT/$l"; done
n=0; bad=0
for d in "${!MAP[@]}"; do
  for f in "$tmp/$d"/*.wav; do
    name=$(basename "$f"); spk=${name%%_*}
    [[ "$spk" =~ ^S[MF][0-9]+$ ]] || { echo "skip (no speaker id): $d/$name" >&2; continue; }
    if [[ "$(head -c 4 "$f")" != RIFF ]]; then echo "skip (not RIFF, LFS pointer?): $d/$name" >&2; bad=$((bad+1)); continue; fi
    mv "$f" "$OUT/${MAP[$d]}/${spk}_${name}"; n=$((n+1))
  done
done
echo "URDU: $n files written to $OUT ($bad non-RIFF skipped)"
for l in "$OUT"/*/; do printf '  %-10s %s\n' "$(basename "$l")" "$(ls "$l" | wc -l)"; done
