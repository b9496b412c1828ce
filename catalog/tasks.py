"""Thin Celery tasks: IDs in, the workspace entered, the service called."""
from __future__ import annotations

from celery import shared_task

from tenancy.context import tenant_context


@shared_task(name="catalog.product_ingest_bulk", queue="default")
def product_ingest_bulk_task(workspace_id: int, urls: list[str]) -> dict:
    """Ingest many links for a workspace; progress goes to the task state (PROGRESS meta)."""
    from catalog.services import product_ingest_bulk
    from tenancy.models import Workspace

    workspace = Workspace.objects.get(id=workspace_id)

    def progress(done: int, total: int) -> None:
        if product_ingest_bulk_task.request.id:
            product_ingest_bulk_task.update_state(state="PROGRESS", meta={"done": done, "total": total})

    with tenant_context(workspace):
        return product_ingest_bulk(workspace=workspace, urls=urls, progress=progress)
