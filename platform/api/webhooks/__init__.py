"""Outbound webhooks (Standard Webhooks): endpoints, events, signed deliveries with retries.

``webhook_event_emit(workspace=..., event_type=..., data=...)`` is the one entry point for
other apps (video jobs, product ingestion, LoRA training, campaigns)."""
from .events import EVENT_TYPES, webhook_event_emit

__all__ = ["EVENT_TYPES", "webhook_event_emit"]
