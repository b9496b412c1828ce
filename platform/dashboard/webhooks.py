"""Developers → Webhooks: endpoints (secret shown once), rotation, `send test`, disable /
enable / delete, and each endpoint's delivery log with redelivery. Admin role. Every action
calls the same services as /api/v1/webhooks (api.webhooks.services, .delivery)."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from api.models import WebhookDelivery, WebhookEndpoint
from api.webhooks.delivery import webhook_delivery_redeliver
from api.webhooks.events import EVENT_TYPES
from api.webhooks.services import (EndpointDisabled, webhook_endpoint_create, webhook_endpoint_delete,
                                   webhook_endpoint_rotate, webhook_endpoint_test, webhook_endpoint_update,
                                   webhook_url_check)
from catalog.ingest.errors import UnsafeURLError

from .access import MANAGE, role_required

DELIVERY_LOG_SIZE = 50
SUBSCRIBABLE = [e for e in EVENT_TYPES if e != "webhook.test"]


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(label="Endpoint URL", max_length=2000, assume_scheme="https",
                         help_text="HTTPS URL on the public internet that accepts POST requests.")
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(choices=[(e, e) for e in SUBSCRIBABLE], widget=forms.CheckboxSelectMultiple,
                                       required=False, help_text="None ticked: every event.")

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            return webhook_url_check(url)
        except UnsafeURLError as exc:
            raise forms.ValidationError(str(exc)) from exc


def _endpoint(request, pk: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(workspace=request.workspace, pk=pk).select_related("workspace").first()
    if endpoint is None:
        raise Http404
    return endpoint


def _no_store(response):
    response["Cache-Control"] = "no-store"  # the page may carry a secret
    return response


@role_required(MANAGE)
def webhooks(request):
    form = WebhookEndpointForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        endpoint, secret = webhook_endpoint_create(
            workspace=request.workspace, url=form.cleaned_data["url"], events=form.cleaned_data["events"],
            description=form.cleaned_data["description"], actor=request.user)
        messages.success(request, f"Endpoint {endpoint.url} added. Copy its signing secret now: it is shown only once.")
        form = WebhookEndpointForm()
    last = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at")
    endpoints = (WebhookEndpoint.objects.filter(workspace=request.workspace).order_by("-created_at")
                 .annotate(last_status=Subquery(last.values("status")[:1]),
                           last_code=Subquery(last.values("last_status_code")[:1]),
                           last_at=Subquery(last.values("created_at")[:1])))
    return _no_store(render(request, "dashboard/webhooks.html",
                            {"form": form, "endpoints": endpoints, "secret": secret}))


@require_POST
@role_required(MANAGE)
def webhook_rotate(request, pk: int):
    endpoint, secret = webhook_endpoint_rotate(endpoint=_endpoint(request, pk), actor=request.user)
    messages.success(request, "Secret rotated. The old secret keeps signing until "
                     f"{endpoint.previous_secret_expires_at:%b %d %H:%M} UTC so you can switch over.")
    return _no_store(render(request, "dashboard/webhook_detail.html",
                            {**_detail_context(endpoint), "secret": secret}))


@require_POST
@role_required(MANAGE)
def webhook_test(request, pk: int):
    endpoint = _endpoint(request, pk)
    try:
        webhook_endpoint_test(endpoint=endpoint)
        messages.success(request, "Test event queued: its delivery appears in the log below.")
    except EndpointDisabled as exc:
        messages.error(request, str(exc))
    return redirect("dashboard:webhook", pk=endpoint.pk)


@require_POST
@role_required(MANAGE)
def webhook_toggle(request, pk: int):
    endpoint = _endpoint(request, pk)
    enable = not endpoint.is_active
    webhook_endpoint_update(endpoint=endpoint, changes={"is_active": enable}, actor=request.user)
    messages.success(request, f"Endpoint {'enabled' if enable else 'disabled'}.")
    return redirect("dashboard:webhook", pk=endpoint.pk)


@require_POST
@role_required(MANAGE)
def webhook_delete(request, pk: int):
    endpoint = _endpoint(request, pk)
    url = endpoint.url
    webhook_endpoint_delete(endpoint=endpoint, actor=request.user)
    messages.success(request, f"Endpoint {url} deleted.")
    return redirect("dashboard:webhooks")


@require_POST
@role_required(MANAGE)
def webhook_redeliver(request, pk: int, delivery_id: int):
    endpoint = _endpoint(request, pk)
    delivery = (WebhookDelivery.objects.filter(workspace=request.workspace, endpoint=endpoint, pk=delivery_id)
                .select_related("event", "endpoint").first())
    if delivery is None:
        raise Http404
    if not endpoint.is_active:
        messages.error(request, "This endpoint is disabled; re-enable it first.")
    else:
        webhook_delivery_redeliver(delivery=delivery)
        messages.success(request, f"Event {delivery.event.public_id} queued again.")
    return redirect("dashboard:webhook", pk=endpoint.pk)


def _detail_context(endpoint: WebhookEndpoint) -> dict:
    deliveries = (WebhookDelivery.objects.filter(workspace_id=endpoint.workspace_id, endpoint=endpoint)
                  .select_related("event").order_by("-created_at")[:DELIVERY_LOG_SIZE])
    return {"endpoint": endpoint, "deliveries": deliveries, "secret": None}


@role_required(MANAGE)
def webhook_detail(request, pk: int):
    return _no_store(render(request, "dashboard/webhook_detail.html", _detail_context(_endpoint(request, pk))))
