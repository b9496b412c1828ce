"""gunicorn settings for the web image (`gunicorn config.wsgi -c infra/docker/gunicorn.conf.py`).
Everything is read from the environment so compose, Kubernetes, `manage.py bench api` and the
tests that start this exact command line share one file.

gthread workers: a keep-alive connection waits in the worker's poller, not in a thread, so an
API client polling over one connection never pays a new TCP handshake, and few threads per
process keep GIL contention low (measured in docs/benchmarks.md, "API")."""
import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
# A request that runs longer is killed and logged; uploads and API calls are small and fast.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# Seconds an idle keep-alive connection is kept (behind a proxy that pools connections, set
# it above the proxy's idle timeout).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak never takes a pod down (not every few seconds
# under a polling load: a fresh worker starts with a cold API-key cache).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# Load the app in the master first: a refused start (weak SECRET_KEY, RLS-bypassing database
# role) stops the whole server with one clear message instead of a worker boot loop.
preload_app = True
# Only the proxy in front may set X-Forwarded-* (comma-separated addresses; '*' in a pod).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_line = 8190
limit_request_fields = 100
# One line per request on stdout; GUNICORN_ACCESS_LOG=off when the proxy in front logs them.
_access = os.environ.get("GUNICORN_ACCESS_LOG", "-")
accesslog = None if _access in ("", "off", "0") else _access
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
control_socket_disable = True


def pre_fork(server, worker):
    # Everything the preloaded app imported (Django, DRF, Celery, the URLconf: ~10^6 objects)
    # goes to the permanent generation before the fork: a worker's full collections then walk
    # only what it allocated itself (measured: ~100 ms stalls every few seconds under load
    # without this), and the pages stay shared with the master (no copy-on-write by the GC).
    gc.freeze()
