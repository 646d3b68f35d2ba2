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

fuzz: $(STAMP)
	ATMEMU_FUZZ_EXAMPLES=20000 $(PY) -m pytest -m fuzz -p no:cacheprovider

clean:
	rm -rf $(VENV) atmemu-out .pytest_cache .hypothesis

# The generated documentation (docs/registers/, docs/rules.md, the key tables of docs/scenario.md).
.PHONY: docs
docs: $(STAMP)
	$(PY) -m tools.docs
