#!/usr/bin/env bash
# Build .venv/: ROS 2 from PyPI wheels, our messages built with cmake, the av_emotion
# packages installed editable. Safe to run again; `make setup` calls it when inputs change.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# System packages the build and the nodes need (Debian/Ubuntu); installed only when missing.
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
"$PYTHON" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || missing+=(python3-dev)
# PortAudio, for the microphone capture node (sounddevice).
"$PYTHON" -c 'import ctypes.util, sys; sys.exit(not ctypes.util.find_library("portaudio"))' \
  || missing+=(libportaudio2)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]} with apt-get"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
"${pip[@]}" -r requirements-ros.txt -r requirements.txt
"${pip[@]}" --no-deps -r requirements-nodeps.txt

msgs=(src/av_emotion_msgs)
# audio_common_msgs comes with ROS; here (and in CI) we build its public interface ourselves.
.venv/bin/python -c 'import audio_common_msgs.msg' 2>/dev/null || msgs+=(test/msgs/audio_common_msgs)
.venv/bin/python tools/build_msgs.py "${msgs[@]}"

# message_filters (pure Python) also ships with ROS only; the fusion node needs it, so here
# the API-faithful stand-in of test/doubles is linked into .venv. Tests name it when used.
if ! .venv/bin/python -c 'import message_filters' 2>/dev/null; then
  site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  ln -sfn "$PWD/test/doubles/message_filters" "$site/message_filters"
  echo "setup: no message_filters (it comes with ROS); using test/doubles/message_filters"
fi

"${pip[@]}" --no-deps --no-build-isolation \
  -e src/av_emotion -e src/av_emotion_vision -e src/av_emotion_audio -e src/av_emotion_fusion \
  -e src/av_emotion_bringup
.venv/bin/python -c 'import rclpy, av_emotion_msgs.msg, av_emotion_vision.pipeline'
echo "setup: .venv ready"
