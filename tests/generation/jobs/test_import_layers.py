"""No import circle in generation.jobs: tasks -> runner -> services, never services -> tasks
(services publish a stage by its registered task name)."""
from functools import partial

from tests.imports import module_imports

_imports = partial(module_imports, "generation.jobs")


def test_services_and_runner_never_import_tasks():
    assert "generation.jobs.runner" in _imports("tasks")
    assert "generation.jobs.services" in _imports("runner")
    for module in ("services", "runner", "dispatch"):
        assert not any(name.startswith("generation.jobs.tasks") for name in _imports(module)), module


def test_services_publish_the_task_tasks_registers():
    from celery import current_app

    from generation.jobs.services import STAGE_TASK
    from generation.jobs.tasks import video_job_stage_task

    assert current_app.tasks[STAGE_TASK] is video_job_stage_task._get_current_object()  # shared_task gives a proxy


def test_a_fresh_web_process_registers_the_stage_task():
    """gunicorn's app loads no test module: the stage task must be registered by app loading
    itself, or every create fails with NotRegistered (found by drill drop-db)."""
    import subprocess
    import sys

    code = ("import django; django.setup(); from celery import current_app; "
            "from generation.jobs.services import STAGE_TASK; print(STAGE_TASK in current_app.tasks)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().endswith("True"), done.stderr[-2000:]
