# Smarketing Playbook: the verbs a user needs.
#   make report   set up .venv and run the assessment on the bundled sample
#   make test     set up .venv and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/lock.txt

.PHONY: setup report test lint lab app handouts participants playbook-it bench lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/smarketing report --config data/samples/client.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/pre-commit run --all-files

lab: $(STAMP)
	$(BIN)/jupyter lab playbook/

app: $(STAMP)
	$(BIN)/smarketing app sla

handouts: $(STAMP)
	$(BIN)/python -m helpers.workshop.handouts --lang all --out build/handouts

# Participant copies in every language: build/participants/en/ and build/participants/it/
participants: $(STAMP)
	$(BIN)/python -m helpers.workshop.participants --lang all --out build/participants

# The Italian facilitator notebooks (playbook/workshop/it/), rewritten from the English ones and
# the message catalogue after either changes; commit them with the change.
playbook-it: $(STAMP)
	$(BIN)/python -m helpers.workshop.localise --lang it

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py

# Refresh the pinned set after changing dependencies in pyproject.toml.
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip install --quiet --upgrade "pip>=24"
	.lockvenv/bin/python -m pip install --quiet -e ".[dev]"
	.lockvenv/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > $(LOCK)
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) build .pytest_cache runs
