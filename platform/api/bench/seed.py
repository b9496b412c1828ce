"""Bench helper run in the bench's own environment: ``python -m api.bench.seed seed|count``."""
from __future__ import annotations

import json
import sys


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from api.webhooks.signing import secret_for
    from generation.jobs.models import VideoJob
    from tenancy.context import tenant_context
    from tenancy.models import Workspace
    from tenancy.services import api_key_create, credit_grant, workspace_create

    command, arg = sys.argv[1], sys.argv[2]
    if command == "seed":
        user = get_user_model().objects.create_user("bench", password="bench-not-a-secret")
        workspace = workspace_create(name="Bench", owner=user, credits=0)
        credit_grant(workspace=workspace, amount=10_000_000, note="bench")
        _, raw = api_key_create(workspace=workspace, name="bench", scopes=["admin"], created_by=user)
        from api.models import WebhookEndpoint
        from api.webhooks.signing import new_nonce

        with tenant_context(workspace):
            endpoint = WebhookEndpoint.objects.create(workspace=workspace, url=arg, secret_nonce=new_nonce(),
                                                      events=["video.canceled"])
        print(json.dumps({"key": raw, "secret": secret_for(endpoint.secret_nonce), "workspace": workspace.pk}))
    elif command == "count":
        from django.db.models import Count

        from api.models import WebhookDelivery, WebhookEvent

        with tenant_context(Workspace.objects.get(pk=int(arg))):
            deliveries = dict(WebhookDelivery.objects.values_list("status").annotate(n=Count("id")))
            errors = list(WebhookDelivery.objects.exclude(last_error="").values_list("last_error", flat=True)[:5])
            print(json.dumps({"jobs": VideoJob.objects.count(), "events": WebhookEvent.objects.count(),
                              "canceled": VideoJob.objects.filter(status="canceled").count(),
                              "deliveries": deliveries, "delivery_errors": errors}))


if __name__ == "__main__":
    main()
