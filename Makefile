VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast fuzz bench lint clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lrforecast compare --schedules cosine,cosine-to-zero,wsd,constant
	$(VENV)/bin/lrforecast compare --schedules wsd:decay=0.05..0.5,cosine
	$(VENV)/bin/lrforecast plan --target-loss 3.2 --schedules cosine,cosine-to-zero,wsd

test: $(STAMP)
	$(VENV)/bin/ruff check lrforecast tests benchmarks
	$(PY) -m pytest -q

test-fast: $(STAMP)  # the edit loop: no test marked slow
	$(VENV)/bin/ruff check lrforecast tests benchmarks
	$(PY) -m pytest -q -m "not slow and not fuzz"

fuzz: $(STAMP)  # every reader and law files on 10,000 mutated inputs per format (tests/test_fuzz.py)
	FUZZ_CASES=10000 $(PY) -m pytest -q -s -m fuzz tests/test_fuzz.py

bench: $(STAMP)
	$(PY) benchmarks/reference_protocol.py
	$(PY) benchmarks/plan_accuracy.py
	$(PY) benchmarks/pilot_accuracy.py
	$(PY) benchmarks/tensorboard_reader.py
	$(PY) benchmarks/long_schedule.py
	$(PY) benchmarks/transfer.py
	$(PY) benchmarks/ceiling.py
	$(PY) benchmarks/range_calibration.py
	$(PY) benchmarks/speed.py

clean:
	rm -rf $(VENV) build dist *.egg-info
