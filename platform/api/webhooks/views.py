"""/api/v1/webhooks: endpoints (secret shown once, rotation with overlap), deliveries with
their attempts, manual redelivery, `send test`. Admin scope."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.errors import ApiError
from api.idempotency import idempotent
from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.views import CursorQuerySerializer, TenantAPIView, page_response, page_serializer
from catalog.ingest.errors import UnsafeURLError

from .delivery import webhook_delivery_redeliver
from .events import EVENT_TYPES
from .services import (EndpointDisabled, webhook_endpoint_create, webhook_endpoint_delete, webhook_endpoint_rotate,
                       webhook_endpoint_test, webhook_endpoint_update, webhook_url_check)


class EndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "is_active", "disabled_at", "disabled_reason",
                  "consecutive_failures", "previous_secret_expires_at", "created_at"]


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="Shown once: store it to verify signatures")

    class Meta(EndpointSerializer.Meta):
        fields = EndpointSerializer.Meta.fields + ["secret"]


class EndpointWriteSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=[e for e in EVENT_TYPES if e != "webhook.test"]),
                                   required=False, max_length=20, help_text="Empty or absent: every event")
    is_active = serializers.BooleanField(required=False, help_text="Re-enable an auto-disabled endpoint")

    def validate_url(self, value: str) -> str:
        try:  # checked now for a clear error, and again at every connect (DNS may change)
            webhook_url_check(value)
        except UnsafeURLError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "status_code", "latency_ms", "error", "created_at"]


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.public_id")
    event_type = serializers.CharField(source="event.type")
    attempt_log = AttemptSerializer(many=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "event_type", "status", "attempts", "next_attempt_at", "last_status_code",
                  "last_latency_ms", "last_error", "created_at", "delivered_at", "attempt_log"]


class _AdminView(TenantAPIView):
    read_scope, write_scope = "admin", "admin"


class EndpointListCreate(_AdminView):
    @extend_schema(request=EndpointWriteSerializer, responses={201: EndpointWithSecretSerializer}, tags=["webhooks"],
                   summary="Register an endpoint (the secret is shown once)")
    @idempotent
    def post(self, request):
        data = EndpointWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = webhook_endpoint_create(
            workspace=self.workspace, url=data.validated_data["url"], events=data.validated_data.get("events", []),
            description=data.validated_data.get("description", ""), api_key=request.auth)
        body = {**EndpointSerializer(endpoint).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[CursorQuerySerializer], responses=page_serializer(EndpointSerializer, "EndpointPage"),
                   tags=["webhooks"], summary="List endpoints")
    def get(self, request):
        return page_response(request, WebhookEndpoint.objects.all(), EndpointSerializer)


class EndpointDetail(_AdminView):
    @extend_schema(responses=EndpointSerializer, tags=["webhooks"], summary="Get an endpoint")
    def get(self, request, pk: int):
        return Response(EndpointSerializer(self.get_object_or_404(WebhookEndpoint.objects.all(), pk=pk)).data)

    @extend_schema(request=EndpointWriteSerializer(partial=True), responses=EndpointSerializer, tags=["webhooks"],
                   summary="Change an endpoint (url, events, description, is_active)")
    def patch(self, request, pk: int):
        endpoint = self.get_object_or_404(WebhookEndpoint.objects.all(), pk=pk)
        data = EndpointWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        webhook_endpoint_update(endpoint=endpoint, changes=dict(data.validated_data), api_key=request.auth)
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(responses={204: None}, tags=["webhooks"], summary="Delete an endpoint")
    def delete(self, request, pk: int):
        endpoint = self.get_object_or_404(WebhookEndpoint.objects.all(), pk=pk)
        webhook_endpoint_delete(endpoint=endpoint, api_key=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotate(_AdminView):
    @extend_schema(request=None, responses=EndpointWithSecretSerializer, tags=["webhooks"],
                   summary="Rotate the secret; the old one keeps signing during the overlap (24 h)")
    @idempotent
    def post(self, request, pk: int):
        endpoint = self.get_object_or_404(WebhookEndpoint.objects.all(), pk=pk)
        endpoint, secret = webhook_endpoint_rotate(endpoint=endpoint, api_key=request.auth)
        return Response({**EndpointSerializer(endpoint).data, "secret": secret})


class EndpointTest(_AdminView):
    @extend_schema(request=None, responses={202: DeliverySerializer}, tags=["webhooks"],
                   summary="Send a `webhook.test` event to this endpoint")
    @idempotent
    def post(self, request, pk: int):
        endpoint = self.get_object_or_404(WebhookEndpoint.objects.all(), pk=pk)
        try:
            delivery = webhook_endpoint_test(endpoint=endpoint)
        except EndpointDisabled as exc:
            raise ApiError("conflict", str(exc)) from exc
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryList(_AdminView):
    @extend_schema(parameters=[CursorQuerySerializer], responses=page_serializer(DeliverySerializer, "DeliveryPage"),
                   tags=["webhooks"], summary="Delivery log of an endpoint (newest first)")
    def get(self, request, pk: int):
        endpoint = self.get_object_or_404(WebhookEndpoint.objects.all(), pk=pk)
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event").prefetch_related("attempt_log")
        return page_response(request, deliveries, DeliverySerializer)


class DeliveryRedeliver(_AdminView):
    @extend_schema(request=None, responses={202: DeliverySerializer}, tags=["webhooks"],
                   summary="Send this delivery's event again (same webhook-id)")
    @idempotent
    def post(self, request, pk: int, delivery_id: int):
        delivery = self.get_object_or_404(WebhookDelivery.objects.select_related("event", "endpoint"),
                                          pk=delivery_id, endpoint_id=pk)
        if not delivery.endpoint.is_active:
            raise ApiError("conflict", "This endpoint is disabled; re-enable it first.")
        again = webhook_delivery_redeliver(delivery=delivery)
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)
