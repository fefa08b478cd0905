# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT := out

.PHONY: demo test test-fast lint bench bench-quick docs serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,web]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/smm-sheets generate all -o $(OUT)/workbooks --params samples/nordic-knitwear.yaml --sample --force
	@echo "Sample workbooks are in ./$(OUT)/workbooks/"
	@# The sample set has warnings (overspending, posts below the plan) but no error: exit code 0.
	@# The report goes beside the folder read: an output inside it is refused.
	$(BIN)/smm-sheets analyse $(OUT)/workbooks --output $(OUT)/analysis.txt
	@echo "Their analysis is in ./$(OUT)/analysis.txt"

# Everything, LibreOffice included (CI requires it: SMM_SHEETS_REQUIRE_LIBREOFFICE=1).
test: $(VENV)/.installed
	$(BIN)/python -m pytest

# The inner loop: no LibreOffice, no slow tests.
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m "not libreoffice and not slow"

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_process.py
	$(BIN)/python bench/bench.py && $(BIN)/python bench/bench_batch.py
	$(BIN)/python bench/bench_analyse.py
	$(BIN)/python bench/bench_web.py --seconds $(WEB_BENCH_SECONDS)

# The web pages on http://127.0.0.1:8000/ (HOST, PORT, WORKERS to change them).
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
WEB_BENCH_SECONDS ?= 60
serve: $(VENV)/.installed
	$(BIN)/smm-sheets serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

# The same figures in a few minutes: fewer runs, smaller calendars and batches (20 clients), no peers.
bench-quick: $(VENV)/.installed
	$(BIN)/python bench/bench_process.py --runs 3
	$(BIN)/python bench/bench.py --quick && $(BIN)/python bench/bench_batch.py --clients 20 --small 5
	$(BIN)/python bench/bench_analyse.py --runs 3 --skip-peers --skip-libreoffice-set --calendar-posts 1000 10000
	$(BIN)/python bench/bench_web.py --seconds 10

# Pictures of the sample workbooks for the README (needs LibreOffice and pdftoppm).
docs: $(VENV)/.installed
	$(BIN)/python docs/render_pictures.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
