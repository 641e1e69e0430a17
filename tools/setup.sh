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
# ip, tc (iproute2) and nft (nftables) for test_network's lossy network of namespaces.
command -v tc >/dev/null || missing+=(iproute2)
command -v nft >/dev/null || missing+=(nftables)
# A real browser and its WebDriver for test_web.py and make bench (the live web view).
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]} with apt-get"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
"${pip[@]}" -r requirements-ros.txt -r requirements.txt
"${pip[@]}" --no-deps -r requirements-nodeps.txt

# The ROS tools and message packages every ROS machine has and PyPI lacks (launch, ros2cli,
# message_filters, audio_common_msgs, hri_msgs...), built from the official sources in
# ../shared/ros (or $AV_EMOTION_ROS) when present.
ros=${AV_EMOTION_ROS:-../shared/ros}
msgs=(src/av_emotion_msgs)
if [ -d "$ros/wheels" ]; then
  "${pip[@]}" --no-deps "$ros"/wheels/*.whl
  "${pip[@]}" -r requirements-ros-tools.txt
  msgs=("$ros/src/composition_interfaces" "$ros/src/audio_common_msgs" "$ros/src/hri_msgs" "${msgs[@]}")
else
  echo "setup: no $ros: launch, ros2cli, message_filters and audio_common_msgs are missing" \
    "(on a ROS machine they come with ROS; see README)"
fi
.venv/bin/python tools/build_msgs.py "${msgs[@]}"

"${pip[@]}" --no-deps --no-build-isolation \
  -e src/av_emotion -e src/av_emotion_vision -e src/av_emotion_audio -e src/av_emotion_fusion \
  -e src/av_emotion_network -e src/av_emotion_feedback -e src/av_emotion_monitor \
  -e src/av_emotion_bringup
# An ament prefix, as colcon makes one: ament index, share/, lib/<package>/ executables.
.venv/bin/python tools/ament_prefix.py src/av_emotion src/av_emotion_vision src/av_emotion_audio \
  src/av_emotion_fusion src/av_emotion_network src/av_emotion_feedback src/av_emotion_monitor \
  src/av_emotion_bringup
.venv/bin/python -c 'import rclpy, av_emotion_msgs.msg, av_emotion_vision.pipeline'
echo "setup: .venv ready"
