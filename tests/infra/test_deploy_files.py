"""#14 Deployment / #10.3: the shipped compose file and Kubernetes manifests have the shape
the security and scale-out promises depend on (app role != owner, one beat, GPU placement,
queue autoscaling, non-root, secrets by reference). Rendered with `kubectl kustomize` when
kubectl is installed; otherwise every kustomization resource is parsed from disk."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
WORKER_KINDS = ("worker-default", "worker-render", "worker-gpu")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((INFRA / "compose.yaml").read_text())


def test_old_compose_file_is_gone():
    assert not (INFRA / "docker" / "compose.yaml").exists()


def test_compose_services_and_healthchecks(compose):
    services = compose["services"]
    assert set(services) >= {"postgres", "redis", "s3", "migrate", "web", "beat", *WORKER_KINDS}
    for name, service in services.items():
        if name != "migrate":
            assert "healthcheck" in service and service["healthcheck"]["test"], name
    assert services["migrate"]["restart"] == "no"
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    gpu = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"] and gpu["count"] == 1
    assert services["worker-gpu"]["build"]["dockerfile"] == "infra/docker/Dockerfile.gpu"
    assert "-c" in services["worker-render"]["command"] and "--pool=solo" in services["worker-gpu"]["command"]
    assert [n for n, s in services.items() if "beat" in " ".join(s.get("command", []))] == ["beat"]


def test_compose_app_uses_the_plain_role_and_only_migrate_holds_the_owner(compose):
    services = compose["services"]
    postgres = services["postgres"]
    assert postgres["environment"]["POSTGRES_USER"] == "postgres"  # superuser only for init
    mounts = {m.split(":")[1]: (INFRA / m.split(":")[0]).resolve() for m in postgres["volumes"] if m.startswith("./")}
    assert all(path.is_file() for path in mounts.values()), mounts
    for name, service in services.items():
        env = service.get("environment") or {}
        if "DATABASE_URL" in env:
            assert env["DATABASE_URL"].startswith("postgres://adfactory_app:"), name
            assert env["TENANCY_REQUIRE_RLS_ROLE"] == "1", name
            assert ("DATABASE_MIGRATE_URL" in env) == (name == "migrate"), name
    assert services["migrate"]["environment"]["DATABASE_MIGRATE_URL"].startswith("postgres://adfactory_owner:")
    assert services["migrate"]["command"][-2:] == ["db_migrate", "--noinput"]
    sql = (INFRA / "postgres" / "init-roles.sql").read_text()
    assert re.search(r'CREATE ROLE :"app_role" LOGIN NOSUPERUSER NOBYPASSRLS', sql)
    assert "ALTER DEFAULT PRIVILEGES FOR ROLE" in sql


def test_dockerfiles_are_multi_stage_non_root_and_pinned():
    for name in ("Dockerfile", "Dockerfile.gpu"):
        text = (INFRA / "docker" / name).read_text()
        assert len(re.findall(r"^FROM ", text, re.M)) >= 2, name
        assert re.search(r"^USER 10001", text, re.M), name
        assert "torch==2.13.0" in text and "requirements.txt" in text, name
        for image in re.findall(r"^ARG \w+_IMAGE=(\S+)", text, re.M):
            assert re.search(r":\d+\.\d+\.\d+", image), f"{name}: {image} is not pinned to a patch release"
    cmd = [line for line in (INFRA / "docker" / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")][-1]
    assert json.loads(cmd[4:])[:4] == ["gunicorn", "config.wsgi", "-c", "infra/docker/gunicorn.conf.py"]
    assert re.search(r"^gunicorn==\d+\.\d+\.\d+$", (REPO / "requirements.txt").read_text(), re.M)


def _k8s_documents() -> list[dict]:
    kustomization = yaml.safe_load((INFRA / "k8s" / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (INFRA / "k8s" / resource).is_file(), resource
    kubectl = shutil.which("kubectl")
    if kubectl:
        out = subprocess.run([kubectl, "kustomize", str(INFRA / "k8s")], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return [d for d in yaml.safe_load_all(out.stdout) if d]
    return [d for r in kustomization["resources"] for d in yaml.safe_load_all((INFRA / "k8s" / r).read_text()) if d]


@pytest.fixture(scope="module")
def k8s() -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["metadata"]["name"]): d for d in _k8s_documents()}


def test_k8s_has_a_deployment_per_kind_one_beat_and_a_migrations_job(k8s):
    for name in ("web", "beat", *WORKER_KINDS):
        assert ("Deployment", name) in k8s, name
    beat = k8s[("Deployment", "beat")]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"
    job = k8s[("Job", "adfactory-migrate")]["spec"]["template"]["spec"]["containers"][0]
    assert job["args"][-2:] == ["db_migrate", "--noinput"]
    assert {"secretRef": {"name": "adfactory-migrate"}} in job["envFrom"]


def test_k8s_pods_run_non_root_and_secrets_are_references(k8s):
    assert not [key for key in k8s if key[0] == "Secret"], "secrets must be referenced, not stored"
    for (kind, name), doc in k8s.items():
        if kind not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            refs = [e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e]
            assert "adfactory-env" in refs, name
            assert ("adfactory-migrate" in refs) == (kind == "Job"), name  # owner URL only in the Job


def test_k8s_gpu_placement_and_queue_autoscaling(k8s):
    gpu = k8s[("Deployment", "worker-gpu")]["spec"]["template"]["spec"]
    assert gpu["nodeSelector"] and any(t["key"] == "nvidia.com/gpu" for t in gpu["tolerations"])
    assert gpu["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    for name in WORKER_KINDS:
        scaled = k8s[("ScaledObject", name)]["spec"]
        assert scaled["scaleTargetRef"]["name"] == name
        queue = name.removeprefix("worker-")
        # one trigger per fair-dispatch level: "<queue>", "<queue>:1", ... (docs/scaling.md)
        assert [t["metadata"]["listName"] for t in scaled["triggers"]] == [
            queue if level == 0 else f"{queue}:{level}" for level in range(settings.JOBS_DISPATCH_LEVELS)]
        assert all(t["type"] == "redis" for t in scaled["triggers"])
        assert (scaled["minReplicaCount"] == 0) == (name == "worker-gpu")
        assert ("PodDisruptionBudget", name) in k8s
    assert ("PodDisruptionBudget", "web") in k8s and ("PodDisruptionBudget", "beat") not in k8s
