# kehoach — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
## pytest-xdist workers. The whole suite: three on 2 cores, because its CKAN, Prefect-server
## and Dask tests wait on other processes (with two workers the cores were idle a seventh of the
## time: 6 min 13 s of pytest, 5 min 47 s with three, 2026-12-07 idle). The inner loop, bound by
## CPU: two. PYTEST_WORKERS=0 (FAST_WORKERS=0) runs it in one process.
PYTEST_WORKERS ?= 3
FAST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest --dist loadgroup
## Where the environment sets PYTHONDONTWRITEBYTECODE (this machine's does), every test process
## (each xdist worker, each CLI a test starts) compiled the code again and pytest rewrote every
## test module again: 2.7 s of CPU a worker's collection. The tests keep compiled files in
## __pycache__/ (ignored by git).
test test-fast bench: export PYTHONDONTWRITEBYTECODE :=

.PHONY: install browser tesseract run test test-fast lint bench ckan-start ckan-stop publish-ckan serve clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## Debian's Chromium, for the test that opens the landing page in a real
## headless browser (installed once; a no-op when it is there).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" -ne 0 ]; then echo "chromium is missing: sudo apt-get install -y chromium fonts-dejavu-core" >&2; exit 1; fi
	@echo "installing chromium (Debian package, for the landing-page test)"
	@DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	@DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

browser: $(CHROMIUM)

## Debian's tesseract with its Vietnamese model, for scanned PDF pages (OCR).
## Others may be running apt at the same time: wait for the lock.
TESSERACT_VIE := /usr/share/tesseract-ocr/5/tessdata/vie.traineddata
$(TESSERACT_VIE):
	@if [ "$$(id -u)" -ne 0 ]; then echo "tesseract is missing: sudo apt-get install -y tesseract-ocr tesseract-ocr-vie" >&2; exit 1; fi
	@echo "installing tesseract-ocr and tesseract-ocr-vie (Debian packages, for scanned PDFs)"
	@DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 update -qq >/dev/null
	@DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-vie >/dev/null

tesseract: $(TESSERACT_VIE)

## Build output/ from raw/ (a new version only when a source changed) and
## publish it to the local portal folder portal/.
run: install tesseract
	$(BIN)/kehoach refresh

## Everything CI runs: lint, then unit, golden and end-to-end tests, with the
## local CKAN (installed on first use) and a real Prefect server.
## CKAN is stopped afterwards unless it was already running.
test: install browser tesseract
	$(BIN)/ruff check kehoach flows tests scripts
	@running=no; scripts/ckan/local-ckan.sh status >/dev/null 2>&1 && running=yes; \
	scripts/ckan/local-ckan.sh start && $(PYTEST) -n $(PYTEST_WORKERS); status=$$?; \
	[ $$running = yes ] || scripts/ckan/local-ckan.sh stop; exit $$status

## Unit and golden tests only (no Prefect server, no CKAN, no load test, no OCR).
test-fast: install browser
	$(PYTEST) -n $(FAST_WORKERS) -m "not prefect and not ckan and not server and not load and not ocr"

lint: install
	$(BIN)/ruff check kehoach flows tests scripts

## The local CKAN on 127.0.0.1:5000 (PostgreSQL, Redis, Solr stand-in; state in the folder
## `scripts/ckan/local-ckan.sh home` prints: .local/ckan, or /var/tmp/kehoach-ckan-<hash> from a private folder).
ckan-start:
	scripts/ckan/local-ckan.sh start

ckan-stop:
	scripts/ckan/local-ckan.sh stop

## Publish output/ to the local CKAN.
publish-ckan: install ckan-start
	home=$$(scripts/ckan/local-ckan.sh home) && set -a && . "$$home/env" && set +a && \
		KEHOACH_PORTAL_URL=$${KEHOACH_PORTAL_URL:-$$CKAN_URL/dataset/} $(BIN)/kehoach refresh --target ckan

## Serve the scheduled refresh (needs a running `prefect server start` and PREFECT_API_URL).
serve: install
	$(BIN)/kehoach serve

# Corpus sizes built (the last one is refreshed): `make bench BENCH_SIZES=1,1000,5000` for issue 26's figures.
BENCH_SIZES ?= 1,10,100,1000
# Unchanged refreshes (median) and refreshes with a plan amended, each beside an unchanged one (median ratio).
BENCH_REFRESHES ?= 3
BENCH_AMENDED ?= 5
bench: install browser tesseract
	$(BIN)/python scripts/benchmark_stages.py --hostile-only
	$(BIN)/python scripts/benchmark.py --sizes $(BENCH_SIZES) --refreshes $(BENCH_REFRESHES) --amended $(BENCH_AMENDED)

clean:
	rm -rf output portal .output* .portal* .pytest_cache
