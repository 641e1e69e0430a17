#!/usr/bin/env bash
# Lay out the training sets outside the repository from their fetched git snapshots
# (the `fetch` tool, or `git clone --bare` of the same repositories):
#   tools/prepare_data.sh RAVDESS_GIT FER_GIT [OUT]   (OUT defaults to ../data)
# RAVDESS (syildizn/RavdessSounds): OUT/ravdess/Actor_XX/03-01-*.wav
# FER-2013 (RecepTahirGunlu/Duygu-Tanima): OUT/fer2013/<Usage>/<class>/<Usage>_<id>.jpg, only the
# original images (the repository also holds augmented copies named *.jpg0.jpg etc.).
set -euo pipefail
ravdess=$1 fer=$2 out=${3:-$(dirname "$0")/../../data}
mkdir -p "$out/ravdess" "$out/fer2013"
git --git-dir="$ravdess" archive HEAD RavdessDataSet | tar -x -C "$out/ravdess" --strip-components=1 \
  --wildcards '*/Actor_*/03-01-*.wav'
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
git --git-dir="$fer" archive HEAD train test validation | tar -x -C "$tmp" \
  --wildcards '*/Training_*.jpg' '*/PublicTest_*.jpg' '*/PrivateTest_*.jpg'
find "$tmp" -name '*.jpg' -regex '.*/\(Training\|PublicTest\|PrivateTest\)_[0-9]+\.jpg' | while read -r f; do
  name=$(basename "$f"); usage=${name%%_*}; class=$(basename "$(dirname "$f")")
  mkdir -p "$out/fer2013/$usage/$class"; mv "$f" "$out/fer2013/$usage/$class/"
done
echo "ravdess: $(find "$out/ravdess" -name '*.wav' | wc -l) clips; fer2013:" \
  "$(find "$out/fer2013" -name '*.jpg' | wc -l) images"
