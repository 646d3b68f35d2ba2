# The two commands: `make run` and `make test`. Each creates .venv when missing and installs atmemu
# editable with its test extra before it does its job.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.atmemu-installed

.PHONY: run test bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/atmemu run

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	for s in $$($(VENV)/bin/atmemu bench --list); do $(VENV)/bin/atmemu bench $$s || exit 1; done

# The long fuzz run: every decoder under hypothesis (FUZZ_EXAMPLES examples per test) and, where the
# atheris wheel installs for this Python, coverage guided under atheris (FUZZ_ATHERIS_RUNS inputs per
# decoder; atheris is optional, never a dependency); then the other fuzz tests; prints the table of
# inputs tried and crashes found per decoder (python -m tools.fuzz --help). Exit 1 on any finding.
fuzz: $(STAMP)
	$(PY) -m pip install --quiet atheris 2>/dev/null || echo "atheris does not install here: hypothesis only"
	$(PY) -m tools.fuzz --examples $(or $(FUZZ_EXAMPLES),$(ATMEMU_FUZZ_EXAMPLES),20000) --atheris-runs $(or $(FUZZ_ATHERIS_RUNS),50000) \
		--with-other-fuzz-tests

clean:
	rm -rf $(VENV) atmemu-out .pytest_cache .hypothesis

# The generated documentation (docs/registers/, docs/rules.md, the key tables of docs/scenario.md).
.PHONY: docs
docs: $(STAMP)
	$(PY) -m tools.docs

# The soak (issue 9): 100,000 add/drop party cycles through the MCM root with 1e-5 cell loss on every
# signalling link, nothing trimmed; prints cycles, operations issued/completed, rule violations, memory at
# the start and the end (tracemalloc windows: peak, net growth and its top lines; allocated blocks, objects,
# RSS), party/call state objects live and kept as bounded records, counters balanced, faults injected.
# SOAK_CYCLES, SOAK_LOSS, SOAK_ARGS (e.g. --json, --window 8) override (python -m tools.soak --help).
.PHONY: soak
soak: $(STAMP)
	$(PY) -m tools.soak --cycles $(or $(SOAK_CYCLES),100000) --loss $(or $(SOAK_LOSS),1e-5) $(SOAK_ARGS)
