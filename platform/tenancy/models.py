"""Workspaces (tenants), who belongs to them, their brands, API keys, credits and audit trail."""
from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

from .managers import TenantModel
from .uploads import brand_logo_path, image_upload_field_validator


class Workspace(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """Not under RLS: it is what tells which workspaces a signed-in user may enter."""

    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        EDITOR = "editor"
        VIEWER = "viewer"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user")]

    @property
    def can_edit(self) -> bool:
        return self.role in {self.Role.OWNER, self.Role.ADMIN, self.Role.EDITOR}


class Brand(TenantModel):
    name = models.CharField(max_length=120)
    primary_color = models.CharField(max_length=7, default="#111827")
    secondary_color = models.CharField(max_length=7, default="#F9FAFB")
    accent_color = models.CharField(max_length=7, default="#F59E0B")
    logo = models.FileField(upload_to=brand_logo_path, blank=True, validators=[image_upload_field_validator],
                            help_text="PNG, JPEG or WebP; checked by tenancy.uploads")
    font_family = models.CharField(max_length=80, default="Inter")
    voice = models.CharField(max_length=80, blank=True, help_text="TTS voice name; empty = default")
    language = models.CharField(max_length=10, default="en")
    tone = models.CharField(max_length=40, default="friendly")
    default_template = models.CharField(max_length=60, default="product_showcase")
    default_aspects = models.JSONField(default=list, blank=True, help_text='e.g. ["9:16", "1:1"]')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="brand_name_unique_per_workspace")]

    def __str__(self) -> str:
        return self.name

    def as_style(self) -> dict:
        """The plain-data brand kit handed to the pure generation stages."""
        return {
            "id": self.pk,
            "name": self.name,
            "primary_color": self.primary_color,
            "secondary_color": self.secondary_color,
            "accent_color": self.accent_color,
            "font_family": self.font_family,
            "logo_path": self.logo.path if self.logo else None,
            "voice": self.voice,
            "language": self.language,
            "tone": self.tone,
            "default_template": self.default_template,
        }


class Invitation(models.Model):
    """An invite to join a workspace with a role. Not under RLS (like Membership): the invitee
    opens it before they belong to the workspace; it is found by the hash of its one-time
    token, and accepting it only ever adds the invitee to *this* workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.EDITOR)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    @property
    def is_open(self) -> bool:
        from django.utils import timezone

        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """Shown once at creation, stored as a SHA-256 hash (keys are 32 random bytes, so a
    fast hash is safe). Not under RLS: authentication looks the key up before any tenant
    is known; every read after that is scoped to ``workspace``."""

    PREFIX = "adf_"

    class Scope(models.TextChoices):
        # admin ⊇ write ⊇ read (api.permissions); videos:* are the v0 names, read as read/write.
        READ = "read"
        WRITE = "write"
        ADMIN = "admin"
        VIDEOS_READ = "videos:read"
        VIDEOS_WRITE = "videos:write"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def generate(cls) -> tuple[str, str, str]:
        """Return (raw key, visible prefix, hash)."""
        prefix = cls.PREFIX + secrets.token_hex(4)
        raw = f"{prefix}.{secrets.token_urlsafe(32)}"
        return raw, prefix, _hash_key(raw)

    @staticmethod
    def hash_key(raw: str) -> str:
        return _hash_key(raw)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class CreditLedger(TenantModel):
    """Append-mostly credit ledger: balance = sum(amount). A reservation is a negative row in
    state HELD that is later COMMITTED (kept) or REFUNDED (a positive refund row is added)."""

    class Kind(models.TextChoices):
        GRANT = "grant"
        RESERVE = "reserve"
        REFUND = "refund"

    class State(models.TextChoices):
        SETTLED = "settled"
        HELD = "held"
        COMMITTED = "committed"
        REFUNDED = "refunded"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SETTLED)
    amount = models.IntegerField()
    reference = models.CharField(max_length=120, blank=True, db_index=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "kind", "state"])]


class AuditLog(TenantModel):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=80)
    target = models.CharField(max_length=120, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "created_at"])]
