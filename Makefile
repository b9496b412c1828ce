# Two commands on a fresh machine: `make demo` and `make test` (see README).
SHELL := /bin/bash
PY := .venv/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test install install-test serve worker beat lock clean-var

install:
	@bash infra/scripts/install-system.sh demo
	@bash infra/scripts/install-python.sh

install-test:
	@bash infra/scripts/install-system.sh test
	@bash infra/scripts/install-python.sh

## make demo: the whole pipeline on the bundled sample product page -> prints the MP4 path last
demo: install
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py demo

## make test: throwaway PostgreSQL + Redis on loopback, then pytest (exit code 5 = no tests = failure)
test: install-test
	@bash infra/scripts/run-tests.sh $(PYTEST_ARGS)

## make serve: dashboard + API on http://127.0.0.1:8000 with a worker and ONE beat (the job
## sweeper) — filesystem broker unless REDIS_URL is set. The worker is prefork so Celery's
## per-stage time limits apply and one workspace's slow stage cannot take every slot
## (WORKER_CONCURRENCY must exceed GENERATION_WORKSPACE_MAX_RUNNING; see docs/reliability.md).
WORKER_CONCURRENCY ?= 3
serve: install
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py ensure_demo_user
	@trap 'kill 0' EXIT; \
	  .venv/bin/celery -A config worker --pool=prefork -c $(WORKER_CONCURRENCY) -Q default,render,gpu -l info & \
	  .venv/bin/celery -A config beat -l info & \
	  $(PY) manage.py runserver 127.0.0.1:8000

## make worker: one Celery worker for all queues (production: one per queue, see infra/)
worker: install
	@.venv/bin/celery -A config worker -Q default,render,gpu -l info

## make beat: the periodic scheduler (job sweeper) for `make worker` setups; run exactly one
beat: install
	@.venv/bin/celery -A config beat -l info

lock:
	@{ echo "# Pinned lock of requirements.in (regenerate: make lock). Install torch FIRST: pip install torch==2.13.0"; \
	   .venv/bin/pip freeze --exclude-editable | grep -vi '^adfactory' | sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/'; } > requirements.txt

clean-var:
	rm -rf var/
