"""Many hosts on one machine: Linux network namespaces joined by veth pairs to a bridge that
lives in its own namespace (no traffic leaves these namespaces; the host's own network is
untouched). Each service runs inside its namespace on its own 10.77.N.x address:

    db .2 (PostgreSQL)   redis .3   s3 .4 (moto server)   web .5 (gunicorn)
    default .6 (default+gpu worker, beat)   render1 .7   render2 .8   ctl .9 (the drill client)

``cut(host)`` sets the host's bridge port down — the cable is pulled: no RST, no clean
shutdown, the processes on it keep running and their sockets hang. Needs root with
CAP_SYS_ADMIN/CAP_NET_ADMIN (``ip netns add``) and PostgreSQL, redis-server binaries.
Never imported by the runtime."""
from __future__ import annotations

import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from generation.drills.cluster import ROOT, wait_until

HOSTS = {"db": 2, "redis": 3, "s3": 4, "web": 5, "default": 6, "render1": 7, "render2": 8, "ctl": 9}
S3_BUCKET, S3_KEY, S3_SECRET = "adfactory-harness", "harness-access", "harness-secret"


def netns_available() -> str | None:
    """None when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("ip", "redis-server"):
        if not shutil.which(tool):
            return f"needs {tool}"
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return "needs PostgreSQL server binaries"
    name = f"afprobe{uuid.uuid4().hex[:6]}"
    probe = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"ip netns add failed: {probe.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class Harness:
    def __init__(self, *, env: dict[str, str] | None = None):
        self.tag = uuid.uuid4().hex[:4]
        self.net = random.randint(1, 250)
        self.dir = Path(tempfile.mkdtemp(prefix=f"harness-{self.tag}-"))
        os.chmod(self.dir, 0o755)
        self.procs: dict[str, subprocess.Popen] = {}
        self.extra_env = env or {}
        self.pg_bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.netns: list[str] = []
        self._pg_started = False

    # -- topology ---------------------------------------------------------------------------
    def ns(self, host: str) -> str:
        return f"af{self.tag}-{host}"

    def addr(self, host: str) -> str:
        return f"10.77.{self.net}.{HOSTS[host]}"

    def _port(self, host: str) -> str:
        return f"b{self.tag}{HOSTS[host]}"

    def build(self) -> "Harness":
        hub = self.ns("net")
        _ip("netns", "add", hub)
        self.netns.append(hub)
        _ip("-n", hub, "link", "set", "lo", "up")
        _ip("-n", hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", hub, "link", "set", "br0", "up")
        for host in HOSTS:
            ns = self.ns(host)
            _ip("netns", "add", ns)
            self.netns.append(ns)
            _ip("link", "add", f"h{self.tag}{HOSTS[host]}", "netns", ns, "type", "veth",
                "peer", "name", self._port(host), "netns", hub)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{self.addr(host)}/24", "dev", f"h{self.tag}{HOSTS[host]}")
            _ip("-n", ns, "link", "set", f"h{self.tag}{HOSTS[host]}", "up")
            _ip("-n", hub, "link", "set", self._port(host), "master", "br0")
            _ip("-n", hub, "link", "set", self._port(host), "up")
        return self

    def cut(self, host: str) -> None:
        """Pull the host's cable (its bridge port down)."""
        _ip("-n", self.ns("net"), "link", "set", self._port(host), "down")

    def mend(self, host: str) -> None:
        _ip("-n", self.ns("net"), "link", "set", self._port(host), "up")

    # -- processes --------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return f"postgres://app:app@{self.addr('db')}:5432/app"

    @property
    def broker_url(self) -> str:
        return f"redis://{self.addr('redis')}:6379/0"

    def env(self, host: str) -> dict[str, str]:
        media = self.dir / f"media-{host}"
        media.mkdir(exist_ok=True)
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
            "DATABASE_URL": self.database_url, "REDIS_URL": self.broker_url, "CELERY_BROKER_URL": self.broker_url,
            "MEDIA_ROOT": str(media), "TEST_MEDIA_ROOT": str(media),
            "AWS_STORAGE_BUCKET_NAME": S3_BUCKET, "AWS_S3_ENDPOINT_URL": f"http://{self.addr('s3')}:5000",
            "AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET, "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_S3_MAX_ATTEMPTS": "2", "DJANGO_ALLOWED_HOSTS": self.addr("web"),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform"), os.environ.get("PYTHONPATH", "")]),
            **self.extra_env,
        }

    def spawn(self, name: str, host: str, argv: list[str], *, env: dict | None = None, user: str | None = None):
        cmd = ["ip", "netns", "exec", self.ns(host)] + (["runuser", "-u", user, "--"] if user else []) + argv
        log = (self.dir / f"{name}.log").open("w")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env or self.env(host), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def run_in(self, host: str, argv: list[str], *, env: dict | None = None, user: str | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess:
        cmd = ["ip", "netns", "exec", self.ns(host)] + (["runuser", "-u", user, "--"] if user else []) + argv
        return subprocess.run(cmd, cwd=ROOT, env=env or self.env(host), capture_output=True, text=True,
                              timeout=timeout)

    def log(self, name: str) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _bin(self, name: str) -> str:
        return str(Path(sys.executable).parent / name)

    def start_services(self) -> None:
        pg = self.dir / "pg"
        shutil.chown(self.dir, "postgres")
        check = {"check": True}
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.pg_bin / "initdb"), "-D", str(pg), "-U",
                        "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                       capture_output=True, **check)
        with (pg / "pg_hba.conf").open("a") as hba:  # the other hosts log in with a password
            hba.write(f"host all all 10.77.{self.net}.0/24 scram-sha-256\n")
        opts = (f"-c listen_addresses={self.addr('db')} -p 5432 -k {self.dir} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        started = self.run_in("db", [str(self.pg_bin / "pg_ctl"), "-D", str(pg), "-l", str(self.dir / "pg.log"),
                                     "-w", "start", "-o", opts], user="postgres", env=dict(os.environ))
        if started.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr}{self.log('pg')}")
        self._pg_started = True
        for sql in ("CREATE ROLE app LOGIN PASSWORD 'app' NOSUPERUSER NOBYPASSRLS CREATEDB",
                    "CREATE DATABASE app OWNER app"):
            done = self.run_in("db", [str(self.pg_bin / "psql"), "-h", str(self.dir), "-p", "5432", "-U", "postgres",
                                      "-q", "-c", sql], user="postgres", env=dict(os.environ))
            if done.returncode != 0:
                raise RuntimeError(f"{sql}: {done.stderr}")
        self.spawn("redis", "redis", ["redis-server", "--bind", self.addr("redis"), "--port", "6379", "--save", "",
                                      "--appendonly", "no", "--protected-mode", "no"], env=dict(os.environ))
        self.spawn("s3", "s3", [self._bin("moto_server"), "-H", self.addr("s3"), "-p", "5000"], env=dict(os.environ))
        migrate = self.run_in("web", [sys.executable, "manage.py", "migrate", "--noinput"])
        if migrate.returncode != 0:
            raise RuntimeError("migrate failed in the harness:\n" + migrate.stdout[-2000:] + migrate.stderr[-3000:])
        made = self.run_in("ctl", [sys.executable, "-c", (
            "import boto3; boto3.client('s3', endpoint_url='http://%s:5000', aws_access_key_id='%s', "
            "aws_secret_access_key='%s', region_name='us-east-1').create_bucket(Bucket='%s')"
            % (self.addr("s3"), S3_KEY, S3_SECRET, S3_BUCKET))])
        if made.returncode != 0:
            raise RuntimeError("bucket not created: " + made.stderr[-2000:])

    def start_app(self, *, render_hosts=("render1", "render2"), default_concurrency: int = 4) -> None:
        # The default host's slots: the per-workspace cap (2) plus the two stages one job runs
        # side by side (voice, shots), so one workspace at its cap never leaves another without
        # a slot (docs/scaling.md, fair dispatch).
        celery = self._bin("celery")
        self.spawn("web", "web", [self._bin("gunicorn"), "config.wsgi:application", "-b", f"{self.addr('web')}:8000",
                                  "-w", "2", "--timeout", "60"])
        self.spawn("worker-default", "default", [celery, "-A", "config", "worker", "--pool=prefork",
                                                 "-c", str(default_concurrency),
                                                 "-Q", "default,gpu", "-n", f"default-{self.tag}@%h",
                                                 "--without-mingle", "--without-gossip", "-l", "info"])
        self.spawn("beat", "default", [celery, "-A", "config", "beat", "-l", "info", "-s",
                                       str(self.dir / "beat-schedule")])
        for host in render_hosts:
            self.spawn(f"worker-{host}", host, [celery, "-A", "config", "worker", "--pool=prefork", "-c", "1",
                                                "-Q", "render", "-n", f"{host}-{self.tag}@%h",
                                                "--without-mingle", "--without-gossip", "-l", "info"])

    def wait_workers(self, names: list[str], timeout: float = 120) -> bool:
        return bool(wait_until(lambda: all("ready." in self.log(n) for n in names), timeout=timeout, interval=0.3))

    def worker_pids(self, name: str) -> set[int]:
        """The celery main process of ``name`` and its pool children (pids are shared across
        network namespaces)."""
        proc = self.procs[name]
        pids, todo = set(), [proc.pid]
        while todo:
            pid = todo.pop()
            pids.add(pid)
            try:
                todo += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            except OSError:
                pass
        return pids

    # -- teardown ---------------------------------------------------------------------------
    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        if self._pg_started:
            subprocess.run(["runuser", "-u", "postgres", "--", str(self.pg_bin / "pg_ctl"), "-D",
                            str(self.dir / "pg"), "-m", "immediate", "stop"], capture_output=True)
        for ns in reversed(self.netns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        if not os.environ.get("HARNESS_KEEP"):  # logs, database and media of the run
            shutil.rmtree(self.dir, ignore_errors=True)
        time.sleep(0.2)

    def __enter__(self) -> "Harness":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
