"""gunicorn settings for the web image (`gunicorn config.wsgi -c infra/docker/gunicorn.conf.py`).
Everything is read from the environment so compose, Kubernetes and the test that starts this
exact command line share one file."""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
# A request that runs longer is killed and logged; uploads and API calls are small and fast.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Recycle workers now and then so a slow leak never takes a pod down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Load the app in the master first: a refused start (weak SECRET_KEY, RLS-bypassing database
# role) stops the whole server with one clear message instead of a worker boot loop.
preload_app = True
# Only the proxy in front may set X-Forwarded-* (comma-separated addresses; '*' in a pod).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
control_socket_disable = True
