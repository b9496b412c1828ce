"""#10.3: the deployment's two database roles, and the startup refusal of any role that can
bypass row-level security. Runs the real thing: a fresh database set up by
infra/postgres/init-roles.sql, migrations as the owner (`db_migrate`), then the WSGI app,
gunicorn (the image's own command line) and a Celery worker started as real processes."""
from __future__ import annotations

import http.client
import json
import re
import secrets
import shutil
import socket
import subprocess
import time

import psycopg
import pytest
from django.conf import settings
from django.shortcuts import resolve_url

from tests.conftest import require_service
from tests.platform.procs import BIN, PYTHON, REPO, manage, production_env, run

pytestmark = pytest.mark.postgres

INIT_SQL = REPO / "infra" / "postgres" / "init-roles.sql"


def _url(role: str, password: str, db: dict, name: str) -> str:
    return f"postgres://{role}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


@pytest.fixture(scope="module")
def deployment_db():
    """A fresh database with owner + app roles from init-roles.sql, migrated by the owner."""
    db = settings.DATABASES["default"]
    require_service(db["ENGINE"].endswith("postgresql"), "needs PostgreSQL (make test starts one)")
    host, port = db["HOST"] or "127.0.0.1", str(db["PORT"] or 5432)
    try:
        admin = psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no superuser access to the test cluster: {exc}")
    tag = secrets.token_hex(3)
    name, owner, app, bypass = f"deploy_{tag}", f"owner_{tag}", f"app_{tag}", f"bypass_{tag}"
    pw = {"owner": secrets.token_hex(8), "app": secrets.token_hex(8), "bypass": secrets.token_hex(8)}
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.execute(f"CREATE ROLE \"{bypass}\" LOGIN NOSUPERUSER BYPASSRLS PASSWORD '{pw['bypass']}'")
    psql = shutil.which("psql") or "psql"
    init = subprocess.run(
        [psql, "-h", host, "-p", port, "-U", "postgres", "-d", name, "-v", "ON_ERROR_STOP=1",
         "-v", f"owner_role={owner}", "-v", f"app_role={app}", "-v", f"owner_password={pw['owner']}",
         "-v", f"app_password={pw['app']}", "-v", f"dbname={name}", "-f", str(INIT_SQL)],
        capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    admin.execute(f'GRANT CONNECT ON DATABASE "{name}" TO "{bypass}"')
    urls = {"owner": _url(owner, pw["owner"], db, name), "app": _url(app, pw["app"], db, name),
            "bypass": _url(bypass, pw["bypass"], db, name), "superuser": _url("postgres", "x", db, name)}
    migrated = manage("db_migrate", "--noinput", env=production_env(
        DATABASE_URL=urls["app"], DATABASE_MIGRATE_URL=urls["owner"]), timeout=300)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr[-3000:]
    assert f"db_migrate role={owner}" in migrated.stdout
    with psycopg.connect(urls["superuser"], autocommit=True) as conn:
        conn.execute(f'GRANT USAGE ON SCHEMA public TO "{bypass}"')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{bypass}"')
    yield {"urls": urls, "roles": {"owner": owner, "app": app}, "name": name}
    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    for role in (owner, app, bypass):
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')
    admin.close()


def test_app_role_gets_rows_but_cannot_own_alter_or_bypass(deployment_db):
    with psycopg.connect(deployment_db["urls"]["app"], autocommit=True) as conn:
        assert conn.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
                            ).fetchone() == (False, False)
        assert conn.execute("SELECT count(*) FROM tenancy_brand").fetchone() == (0,)  # DML granted, RLS hides
        conn.execute("SELECT set_config('app.tenant_id', '1', false)")
        for ddl in ("ALTER TABLE tenancy_brand DISABLE ROW LEVEL SECURITY", "DROP POLICY tenant_isolation ON tenancy_brand",
                    "CREATE TABLE sneaky (id int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(ddl)


@pytest.mark.parametrize("role, why", [
    ("superuser", "is a superuser"), ("owner", "owns (or can become the owner of) tenant tables"),
    ("bypass", "has BYPASSRLS")])
def test_web_app_refuses_roles_that_bypass_rls(deployment_db, role, why):
    result = run([PYTHON, "-c", "import config.wsgi"], production_env(DATABASE_URL=deployment_db["urls"][role]))
    assert result.returncode != 0
    assert "Refusing to start web: the database role can bypass row-level security" in result.stderr
    assert why in result.stderr


def test_system_check_reports_the_owner_role_as_an_error(deployment_db):
    result = manage("check", "--database", "default", env=production_env(DATABASE_URL=deployment_db["urls"]["owner"]))
    assert result.returncode != 0 and "tenancy.E001" in result.stderr


def test_celery_worker_refuses_a_superuser_role(deployment_db):
    result = run([str(BIN / "celery"), "-A", "config", "worker", "--pool=solo", "-Q", "rlscheck", "-l", "warning"],
                 production_env(DATABASE_URL=deployment_db["urls"]["superuser"],
                                REDIS_URL=settings.CELERY_BROKER_URL if settings.CELERY_BROKER_URL.startswith(
                                    "redis") else "memory://"), timeout=90)
    assert result.returncode == 1
    assert "Refusing to start celery" in result.stderr and "is a superuser" in result.stderr


def _dockerfile_cmd() -> list[str]:
    lines = (REPO / "infra" / "docker" / "Dockerfile").read_text().splitlines()
    return json.loads(re.sub(r"^CMD\s+", "", [line for line in lines if line.startswith("CMD ")][-1]))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, **headers) -> tuple[int, str]:
    """Plain http.client: no proxy from the environment, the Host header exactly as given."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_image_command_line_serves_pages_as_the_app_role(deployment_db):
    cmd = _dockerfile_cmd()
    assert cmd[:2] == ["gunicorn", "config.wsgi"]
    port = _free_port()
    env = production_env(DATABASE_URL=deployment_db["urls"]["app"], GUNICORN_BIND=f"127.0.0.1:{port}",
                         WEB_CONCURRENCY="1", DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    proc = subprocess.Popen([str(BIN / cmd[0]), *cmd[1:]], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body = _get(port, "/healthz")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200 and body == "ok", proc.stdout.read() if proc.poll() is not None else status
        login = resolve_url(settings.LOGIN_URL)
        status, body = _get(port, login, Host="ads.example.com", **{"X-Forwarded-Proto": "https"})
        assert status == 200 and "<form" in body
        assert _get(port, login, Host="ads.example.com")[0] == 301  # plain http -> https
        assert _get(port, login, Host="evil.example")[0] == 400  # ALLOWED_HOSTS
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_image_command_line_refuses_to_start_as_superuser(deployment_db):
    cmd = _dockerfile_cmd()
    env = production_env(DATABASE_URL=deployment_db["urls"]["superuser"], GUNICORN_BIND=f"127.0.0.1:{_free_port()}",
                         WEB_CONCURRENCY="1")
    result = run([str(BIN / cmd[0]), *cmd[1:]], env, timeout=60)
    assert result.returncode != 0
    assert "Refusing to start web" in result.stdout + result.stderr
