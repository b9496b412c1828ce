"""API-key authentication: `Authorization: Bearer adf_xxxx.yyyy`.

A key acts for its workspace only while the person who created it may: the creator must be
active and still a member of that workspace (checked on every request, not only when the
off-boarding services ran). A key without a creator is a workspace service key (created so,
or re-homed by explicit choice); a deleted user's keys are revoked before the row goes."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from tenancy.models import ApiKey, Membership

LAST_USED_RESOLUTION = timedelta(seconds=60)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api key>'.")
        key = ApiKey.objects.select_related("workspace", "created_by").filter(
            key_hash=ApiKey.hash_key(parts[1])).first()
        if key is None or not key.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        creator = key.created_by
        if creator is not None and (not creator.is_active or not Membership.objects.filter(
                workspace_id=key.workspace_id, user_id=creator.pk).exists()):
            raise exceptions.AuthenticationFailed("This API key's creator no longer has access to the workspace.")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            # A write per request would double the cost of a status poll; a minute is precise enough.
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return (key.created_by or _ApiKeyUser(key), key)

    def authenticate_header(self, request):
        return self.keyword


class _ApiKeyUser:
    """Stands for a key whose creator was deleted: authenticated, no Django user row."""

    is_authenticated = True
    is_active = True
    pk = None

    def __init__(self, key: ApiKey):
        self.key = key
