# Everything runs inside .venv/ (made by `make setup`, which the other targets call).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.setup-done
PEER := $(VENV)-peer
SETUP_INPUTS := tools/setup.sh tools/build_msgs.py tools/ament_prefix.py requirements*.txt \
	$(wildcard src/*/setup.py src/*/package.xml src/av_emotion_msgs/msg/*.msg \
	../shared/ros/wheels/*.whl)

.PHONY: setup test demo bench bench-record clean

setup: $(STAMP)

$(STAMP): $(SETUP_INPUTS)
	PYTHON=$(PYTHON) tools/setup.sh
	touch $@

test: setup
	$(VENV)/bin/python -m pytest test

demo: setup
	$(VENV)/bin/av-emotion-demo

# The `fer` library, compared side by side in `make bench` (TensorFlow and PyTorch: ~6 GB).
$(PEER)/.setup-done: requirements-peer.txt requirements-peer-nodeps.txt
	[ -x $(PEER)/bin/python ] || $(PYTHON) -m venv $(PEER)
	$(PEER)/bin/python -m pip install -q -r requirements-peer.txt
	$(PEER)/bin/python -m pip install -q --no-deps -r requirements-peer-nodeps.txt
	touch $@

# bench/results.json holds the numbers README quotes: only `make bench-record` (or
# BENCH_JSON=...) writes there; a plain `make bench` leaves it alone, and warns on a busy
# machine, where bench-record refuses to measure.
BENCH_JSON ?= build/bench/results.json
BENCH_ARGS ?=

bench: setup $(PEER)/.setup-done
	$(VENV)/bin/av-emotion-bench --json $(BENCH_JSON) --peer-python $(PEER)/bin/python $(BENCH_ARGS)

bench-record:
	$(MAKE) bench BENCH_JSON=bench/results.json BENCH_ARGS=--refuse-busy

clean:
	rm -rf $(VENV) $(PEER) build demo-output
