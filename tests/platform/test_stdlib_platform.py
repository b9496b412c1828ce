"""platform/ is a source folder, not the package `platform`: the stdlib module must win in
every entry point (manage.py, a Celery worker, wsgi, pytest) or `import uuid` breaks."""
import os
import platform
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
PROBE = ("import platform, uuid; from pathlib import Path; "
         "print('SYSTEM', platform.system(), Path(platform.__file__).resolve().parent, uuid.uuid4().version)")


def _env(**extra):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **extra}
    env.pop("PYTHONPATH", None)
    return env


def _check_probe_output(output: str) -> None:
    line = next(line for line in output.splitlines() if line.startswith("SYSTEM "))
    _, system, folder, uuid_version = line.split(" ")
    assert system == platform.system() == "Linux"
    assert Path(folder) == STDLIB
    assert uuid_version == "4"


def test_pytest_sees_the_stdlib_platform():
    assert Path(platform.__file__).resolve().parent == STDLIB
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_manage_py_check_and_shell_use_the_stdlib_platform():
    check = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=_env(),
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    shell = subprocess.run([sys.executable, "manage.py", "shell", "-c", PROBE], cwd=ROOT, env=_env(),
                           capture_output=True, text=True, timeout=120)
    assert shell.returncode == 0, shell.stderr
    _check_probe_output(shell.stdout)


def test_wsgi_import_from_another_directory(tmp_path):
    code = "import config.wsgi; assert callable(config.wsgi.application); " + PROBE
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    _check_probe_output(result.stdout)


def test_celery_worker_starts(tmp_path):
    """A real worker boots with the project's app (in-memory broker) and answers a ping."""
    celery = Path(sys.executable).parent / "celery"
    env = _env(CELERY_BROKER_URL="memory://")
    worker = subprocess.Popen(
        [str(celery), "-A", "config", "worker", "--pool=solo", "-Q", "platform-check", "-l", "info",
         "--without-mingle", "--without-gossip", "--without-heartbeat", "-n", "check@%h"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in worker.stdout:
            lines.append(line)
            if "ready." in line:
                break
        assert any("ready." in line for line in lines), "".join(lines[-30:])
        assert any("generation.video_job_stage" in line for line in lines), "tasks not registered"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    probe = subprocess.run([sys.executable, "-c", "import config; " + PROBE], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    _check_probe_output(probe.stdout)
