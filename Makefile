# Everything runs inside .venv/ (made by `make setup`, which the other targets call).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.setup-done
SETUP_INPUTS := tools/setup.sh tools/build_msgs.py requirements*.txt \
	$(wildcard src/*/setup.py src/*/package.xml src/av_emotion_msgs/msg/*.msg \
	test/msgs/*/msg/*.msg)

.PHONY: setup test demo bench clean

setup: $(STAMP)

$(STAMP): $(SETUP_INPUTS)
	PYTHON=$(PYTHON) tools/setup.sh
	touch $@

test: setup
	$(VENV)/bin/python -m pytest test

demo: setup
	$(VENV)/bin/av-emotion-demo

bench: setup
	$(VENV)/bin/av-emotion-bench --json bench/results.json

clean:
	rm -rf $(VENV) $(VENV)-peer build .cache
