"""A real S3-protocol server for drills and tests: moto's server mode (``moto_server``) as a
subprocess on loopback, behind a small TCP relay the drill can switch to *refusing* (every
connection is cut, as when the object store is down) and back, without losing the bucket's
contents. Never imported by the runtime."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

from generation.drills.cluster import free_port, wait_until

ACCESS_KEY, SECRET_KEY, REGION = "drill-access", "drill-secret", "us-east-1"


def _moto_command() -> list[str]:
    exe = Path(sys.executable).parent / "moto_server"
    if exe.exists():
        return [str(exe)]
    if shutil.which("moto_server"):
        return ["moto_server"]
    return [sys.executable, "-m", "moto.server"]


class S3Server:
    """``with S3Server(bucket="b", host="127.0.0.1") as s3: s3.env`` -> the AWS_* settings."""

    def __init__(self, *, bucket: str = "adfactory-drill", host: str = "127.0.0.1"):
        self.bucket, self.host = bucket, host
        self.inner_port = free_port()
        self._proc = subprocess.Popen([*_moto_command(), "-H", "127.0.0.1", "-p", str(self.inner_port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "1"})
        self.refusing = threading.Event()
        self._stop = threading.Event()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="s3-relay", daemon=True)
        self._thread.start()
        if not wait_until(self._up, timeout=30, interval=0.1):
            self.close()
            raise RuntimeError("moto_server did not start")
        self.client().create_bucket(Bucket=bucket)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_STORAGE_BUCKET_NAME": self.bucket, "AWS_S3_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_S3_REGION_NAME": REGION, "AWS_S3_MAX_ATTEMPTS": "2"}

    def storages_setting(self) -> dict:
        """A STORAGES["default"] entry for ``override_settings`` in this process."""
        from botocore.config import Config

        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": self.bucket, "endpoint_url": self.endpoint, "region_name": REGION,
            "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "addressing_style": "path",
            "signature_version": "s3v4", "file_overwrite": True, "default_acl": None, "querystring_expire": 300,
            "client_config": Config(signature_version="s3v4", s3={"addressing_style": "path"}, connect_timeout=2, read_timeout=30, retries={"max_attempts": 2})}}

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name=REGION,
                            config=Config(connect_timeout=2, retries={"max_attempts": 1}))

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def refuse(self) -> None:
        """The store goes away: open connections are cut, new ones closed at once."""
        self.refusing.set()
        with self._lock:
            for conn in list(self._conns):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def restore(self) -> None:
        self.refusing.clear()

    def _up(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.inner_port)) == 0

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            if self.refusing.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.inner_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                if self.refusing.is_set():
                    break
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        self.refuse()
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)

    def __enter__(self) -> "S3Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) == 0
