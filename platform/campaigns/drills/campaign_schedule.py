"""`manage.py drill campaign-schedule [--minutes 3] [--seconds S] [--interval-s 60] [--tick-s 5]`

Real PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), TWO `celery beat` processes (both tick,
as in the classic double-beat accident) and two `celery worker`s. One campaign fires every
``--interval-s`` (cron every minute by default; an RRULE SECONDLY rule for shorter intervals,
so the suite can run it in under a minute). Mid-way one beat is SIGKILLed and later restarted,
and one worker is SIGKILLed and restarted (its unacked messages come back after a short
visibility timeout, so redelivery is exercised too). The campaign's products are links on a
loopback store that answer 404, so every job fails fast at ingest: the drill measures the
scheduler and the runs, not rendering.

Final JSON: expected_runs, runs, duplicates, missed, duplicate_jobs (+ timings); ok when every
expected occurrence has exactly one run, no run is spurious, no item has two jobs and every
run finished.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[3]


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="drill campaign-schedule")
    parser.add_argument("--minutes", type=float, default=3.0, help="length of the observed window")
    parser.add_argument("--seconds", type=float, default=None, help="window in seconds (overrides --minutes)")
    parser.add_argument("--interval-s", type=int, default=60, help="seconds between occurrences")
    parser.add_argument("--tick-s", type=float, default=5.0, help="beat tick period")
    parser.add_argument("--drain-s", type=float, default=90.0, help="max wait for runs to finish after the window")
    return parser.parse_args(argv)


def _env(tick_s: float, allowed_host: str, log_dir: Path) -> dict:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CAMPAIGNS_TICK_S": str(tick_s),
        "CAMPAIGNS_RUN_LEASE_S": "20",
        "CAMPAIGNS_MIN_INTERVAL_S": "1",
        "CELERY_VISIBILITY_TIMEOUT_S": "15",  # a killed worker's messages come back within the drill
        "CATALOG_SSRF_ALLOWED_HOSTS": allowed_host,
        "CATALOG_FETCH_MIN_INTERVAL_S": "0",
        "TEST_MEDIA_ROOT": str(log_dir / "media"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform"), os.environ.get("PYTHONPATH", "")]),
    }


class _Procs:
    """The beats and workers, each with its own log file."""

    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir, self.procs = env, log_dir, {}
        self.celery = str(Path(sys.executable).parent / "celery")

    def start(self, name: str) -> None:
        if name.startswith("beat"):
            cmd = [self.celery, "-A", "config", "beat", "-l", "info", "--pidfile=",
                   "-S", "django_celery_beat.schedulers:DatabaseScheduler", "--max-interval", "1"]
        else:
            cmd = [self.celery, "-A", "config", "worker", "--pool=solo", "-Q", "default", "-l", "info",
                   "-n", f"drill-{name}-{os.getpid()}@%h", "--without-mingle", "--without-gossip"]
        log = (self.log_dir / f"{name}.log").open("a")
        self.procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.procs.clear()


def _wait_workers(count: int, timeout: float = 90) -> None:
    from config.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        if len([r for r in replies if any(k.startswith("drill-") for k in r)]) >= count:
            return
    raise RuntimeError(f"{count} drill workers did not answer within {timeout}s")


def _wait_beats(log_dir: Path, names: tuple[str, ...], timeout: float = 90) -> None:
    """Both beats have sent a tick (so a slow start cannot fold the first occurrences)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all("campaign-tick" in (log_dir / f"{n}.log").read_text(errors="replace") for n in names):
            return
        time.sleep(0.5)
    raise RuntimeError(f"beats {names} did not tick within {timeout}s")


def _setup(store_url: str, interval_s: int, starts_at: datetime):
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    from campaigns.services import campaign_create
    from tenancy.models import Brand
    from tenancy.services import credit_grant, workspace_create
    from tenancy.context import tenant_context

    user, _ = get_user_model().objects.get_or_create(username="drill-campaign-schedule")
    workspace = workspace_create(name=f"Drill campaign schedule {int(time.time())}", owner=user, credits=0)
    credit_grant(workspace=workspace, amount=100000, note="drill")
    with tenant_context(workspace):
        brand = Brand.objects.order_by("pk").first()
    kind, expression = ("cron", "* * * * *") if interval_s == 60 else ("rrule", f"FREQ=SECONDLY;INTERVAL={interval_s}")
    with override_settings(CAMPAIGNS_MIN_INTERVAL_S=1):
        campaign, _ = campaign_create(
            workspace=workspace, brand=brand, name="Every tick", source_kind="list", mode="all",
            source_urls=[f"{store_url}/products/gone-1", f"{store_url}/products/gone-2"],
            templates=["product_showcase"], aspects=["9:16"], languages=["en"], schedule_kind=kind,
            schedule=expression, timezone="Europe/Berlin", starts_at=starts_at)
    return workspace, campaign


def _measure(campaign, *, window_end: datetime) -> dict:
    from campaigns.models import CampaignRun, CampaignRunItem
    from campaigns.schedule import occurrences_between
    from generation.jobs.models import VideoJob
    from tenancy.context import tenant_context

    schedule = campaign.as_schedule()
    expected = occurrences_between(schedule, start=campaign.starts_at - timedelta(microseconds=1), end=window_end,
                                   cap=10000)
    with tenant_context(campaign.workspace_id):
        runs = list(CampaignRun.objects.filter(campaign=campaign, trigger="schedule", scheduled_for__lte=window_end))
        items_with_jobs = CampaignRunItem.objects.filter(run__campaign=campaign, job__isnull=False).count()
        jobs = VideoJob.objects.filter(brand=campaign.brand).count()
    times = [r.scheduled_for for r in runs]
    lateness = [(r.created_at - r.scheduled_for).total_seconds() for r in runs]
    return {
        "expected_runs": len(expected),
        "runs": len(runs),
        "duplicates": (len(times) - len(set(times))) + len(set(times) - set(expected)),
        "missed": len(set(expected) - set(times)),
        "duplicate_jobs": jobs - items_with_jobs,
        "jobs": jobs,
        "runs_finished": sum(r.is_finished for r in runs),
        "folded_occurrences": sum(r.missed_occurrences for r in runs),
        "max_claim_lateness_s": round(max(lateness), 2) if lateness else None,
    }


def _drain(campaign, *, window_end: datetime, timeout: float) -> None:
    from campaigns.models import CampaignRun
    from tenancy.context import tenant_context

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(campaign.workspace_id):
            open_runs = CampaignRun.objects.filter(campaign=campaign, scheduled_for__lte=window_end,
                                                   status__in=CampaignRun.ACTIVE).count()
        if not open_runs:
            return
        time.sleep(1)


def run(argv: list[str], out) -> dict:
    from django.conf import settings
    from django.db import connection

    from campaigns.drills.shop import Store, store_serve
    from campaigns.services import campaign_pause

    args = _args(argv)
    window = args.seconds if args.seconds is not None else args.minutes * 60
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
        return {"ok": False, "error": "needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)"}
    log_dir = Path(tempfile.mkdtemp(prefix="drill-campaign-schedule-"))
    with store_serve(Store()) as store:
        procs = _Procs(_env(args.tick_s, urlsplit(store.url).netloc, log_dir), log_dir)
        try:
            for name in ("worker-a", "worker-b", "beat-a", "beat-b"):
                procs.start(name)
            _wait_workers(2)
            _wait_beats(log_dir, ("beat-a", "beat-b"))
            starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
            workspace, campaign = _setup(store.url, args.interval_s, starts_at)
            connection.close()
            window_end = starts_at + timedelta(seconds=window)
            events = [(0.30, "kill beat-a", lambda: procs.kill("beat-a")),
                      (0.50, "restart beat-a", lambda: procs.start("beat-a")),
                      (0.65, "kill worker-a", lambda: procs.kill("worker-a")),
                      (0.72, "restart worker-a", lambda: procs.start("worker-a"))]
            for fraction, label, action in events:
                delay = (starts_at + timedelta(seconds=window * fraction) - datetime.now(UTC)).total_seconds()
                time.sleep(max(delay, 0))
                action()
                out.write(f"{datetime.now(UTC):%H:%M:%S} {label}\n")
            time.sleep(max((window_end - datetime.now(UTC)).total_seconds(), 0) + 2 * args.tick_s + 2)
            _drain(campaign, window_end=window_end, timeout=args.drain_s)
            campaign_pause(workspace=workspace, campaign=campaign, paused=True)
        finally:
            procs.stop_all()
    result = _measure(campaign, window_end=window_end)
    result.update({"window_s": window, "interval_s": args.interval_s, "tick_s": args.tick_s, "logs": str(log_dir)})
    result["ok"] = (result["runs"] == result["expected_runs"] > 0 and result["duplicates"] == 0
                    and result["missed"] == 0 and result["duplicate_jobs"] == 0
                    and result["runs_finished"] == result["runs"])
    return result
