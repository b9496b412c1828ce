"""The `make serve` topology for drills: real Celery worker and beat processes against the
configured database and a Redis broker (a private redis-server when none is configured), plus
drill workspaces. Never imported by the runtime."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
QUEUES = "default,render,gpu"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """The URL of the database this process uses (the test database under pytest)."""
    db = settings.DATABASES["default"]
    if "sqlite" in db["ENGINE"]:
        return f"sqlite:///{db['NAME']}"
    user, password = quote(db.get("USER") or ""), quote(db.get("PASSWORD") or "")
    return f"postgres://{user}:{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class Cluster:
    """Worker and beat subprocesses sharing this process's database, media and broker."""

    def __init__(self, *, env: dict[str, str], name: str):
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"drill-{name}-"))
        self.redis_proc: subprocess.Popen | None = None
        self.procs: list[subprocess.Popen] = []
        self.broker_url = self._broker()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT), "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "CELERY_BROKER_URL": self.broker_url, "REDIS_URL": self.broker_url,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform"), os.environ.get("PYTHONPATH", "")]),
            **env,
        }

    def _broker(self) -> str:
        url = settings.CELERY_BROKER_URL
        if url.startswith("redis"):
            return url
        if not shutil.which("redis-server"):
            raise FileNotFoundError("this drill needs Redis: set REDIS_URL or install redis-server")
        port = free_port()
        self.redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        from config.celery import app  # this process publishes the drill's jobs to the same broker

        app.conf.broker_url = url
        app.conf.broker_transport_options = {"visibility_timeout": 4 * 3600, "unacked_restore_interval": 5}
        app._pool = None
        app.amqp._producer_pool = None
        return url

    def _celery(self, *args: str, log: str) -> subprocess.Popen:
        out = (self.dir / log).open("w")
        proc = subprocess.Popen([str(Path(sys.executable).parent / "celery"), "-A", "config", *args],
                                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def start_worker(self, *, concurrency: int = 2, tag: str = "w") -> subprocess.Popen:
        """A worker as `make serve` starts it: prefork, every queue."""
        return self._celery("worker", "--pool=prefork", "-c", str(concurrency), "-Q", QUEUES, "-l", "info",
                            "-n", f"drill-{self.name}-{tag}-{uuid.uuid4().hex[:6]}@%h",
                            "--without-mingle", "--without-gossip", log=f"worker-{tag}.log")

    def wait_ready(self, *, timeout: float = 90) -> bool:
        """Until a started worker answers a ping (its boot is not counted in the figures)."""
        from config.celery import app

        return bool(wait_until(lambda: app.control.ping(timeout=1), timeout=timeout, interval=0.2))

    def start_beat(self) -> subprocess.Popen:
        return self._celery("beat", "-l", "info", "-s", str(self.dir / "beat-schedule"), log="beat.log")

    def log(self, name: str) -> str:
        path = self.dir / name
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # its own session: the pool children too
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if self.redis_proc is not None:
            self.redis_proc.terminate()
            self.redis_proc.wait(timeout=10)

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def drill_workspace(*, name: str, credits: int):
    """A fresh workspace (and its owner) for one drill run; returns (workspace, brand)."""
    from django.contrib.auth import get_user_model

    from tenancy.context import tenant_context
    from tenancy.models import Brand
    from tenancy.services import workspace_create

    tag = uuid.uuid4().hex[:8]
    owner = get_user_model().objects.create_user(username=f"drill-{name}-{tag}", password=None)
    workspace = workspace_create(name=f"Drill {name} {tag}", owner=owner, credits=credits)
    with tenant_context(workspace):
        brand = Brand.objects.order_by("pk").first()
    return workspace, brand


def wait_until(predicate, *, timeout: float, interval: float = 0.05):
    """Poll ``predicate()`` until it returns something truthy; None after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := predicate()):
            return value
        time.sleep(interval)
    return None
