"""Dashboard writes: invites, the corrected product preview, a batch of jobs from one
preview (aspects x variants), retry, and re-rendering a job from its edited timeline.

Every function runs inside the caller's tenant context (the request's workspace), takes the
workspace (or a job of it) first and keyword-only, and writes an audit row."""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from catalog.models import Product
from generation.jobs.models import VideoJob
from generation.jobs.errors import QueueUnavailable
from generation.jobs.services import QUEUE_DOWN_REASON, video_job_create
from tenancy.context import tenant_context
from tenancy.models import Brand, Invitation, Membership, Workspace
from tenancy.services import InsufficientCredits, audit_log_write, credit_balance, membership_add

logger = logging.getLogger(__name__)
INVITE_DAYS = 7
MAX_JOBS_PER_BATCH = 12
MUSIC_OPTIONS = ("", "upbeat", "calm", "bold", "none")  # pipeline._with_music_choice
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str, *, limit: int) -> str:
    """Single-line user text without control characters (NUL breaks PostgreSQL)."""
    return " ".join(_CONTROL.sub("", value or "").split())[:limit]


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def invitation_create(*, workspace: Workspace, email: str, role: str, invited_by, accept_url) -> tuple[Invitation, str]:
    """Invite ``email`` with ``role``; mails a one-time link (``accept_url(token)``). Only the
    token's hash is stored. Owners can only be made by the owner."""
    if role not in Membership.Role.values:
        raise ValueError(f"unknown role {role!r}")
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        workspace=workspace, email=email.strip().lower(), role=role, token_hash=_token_hash(raw),
        invited_by=invited_by, expires_at=timezone.now() + timedelta(days=INVITE_DAYS))
    audit_log_write(workspace=workspace, action="invitation.created", actor=invited_by, target=invitation.email,
                    data={"role": role})
    link = accept_url(raw)
    transaction.on_commit(lambda: send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}You are invited to {workspace.name}",
        message=(f"{invited_by.get_username()} invited you to the workspace {workspace.name} on AdFactory "
                 f"as {role}.\n\nOpen this link to join (valid {INVITE_DAYS} days):\n{link}\n"),
        from_email=None, recipient_list=[invitation.email]))
    return invitation, raw


def invitation_find(*, token: str) -> Invitation | None:
    """The open invitation for a raw token, or None (unknown, used, revoked or expired)."""
    invitation = Invitation.objects.select_related("workspace").filter(token_hash=_token_hash(token or "")).first()
    return invitation if invitation is not None and invitation.is_open else None


@transaction.atomic
def invitation_accept(*, token: str, user) -> Membership | None:
    """Join the invitation's workspace with its role (once). The signed-in user's verified
    e-mail must be the invited one; returns None when the token is not open or not theirs."""
    from allauth.account.models import EmailAddress

    invitation = Invitation.objects.select_for_update().filter(token_hash=_token_hash(token or "")).first()
    if invitation is None or not invitation.is_open:
        return None
    if not EmailAddress.objects.filter(user=user, email__iexact=invitation.email, verified=True).exists():
        return None
    existing = Membership.objects.filter(workspace=invitation.workspace, user=user).first()
    role = invitation.role
    if existing is not None and RANK_ORDER.index(existing.role) <= RANK_ORDER.index(role):
        role = existing.role  # an invite never demotes an existing member
    membership = membership_add(workspace=invitation.workspace, user=user, role=role, actor=invitation.invited_by)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_log_write(workspace=invitation.workspace, action="invitation.accepted", actor=user,
                    target=invitation.email, data={"role": role})
    return membership


RANK_ORDER = [Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.EDITOR, Membership.Role.VIEWER]


@transaction.atomic
def membership_remove(*, workspace: Workspace, membership: Membership, actor) -> None:
    """Remove a member (never the last owner)."""
    if membership.role == Membership.Role.OWNER and not Membership.objects.filter(
            workspace=workspace, role=Membership.Role.OWNER).exclude(pk=membership.pk).exists():
        raise ValueError("A workspace keeps at least one owner.")
    membership.delete()
    audit_log_write(workspace=workspace, action="membership.removed", actor=actor,
                    target=membership.user.get_username())


@transaction.atomic
def product_preview_update(*, workspace: Workspace, product: Product, title: str, price: Decimal | None,
                           features: list[str], main_image_id: int | None, actor=None) -> Product:
    """Save the user's corrections of an ingested product before generating: title, price,
    features and which picture comes first (the main image)."""
    product.title = clean_text(title, limit=500)
    product.price = price
    product.features = [clean_text(f, limit=300) for f in features if clean_text(f, limit=300)][:20]
    provenance = dict(product.provenance or {})
    for field in ("title", "price", "features"):
        provenance[field] = {"source": "user", "confidence": 1.0}
    product.provenance = provenance
    product.save(update_fields=["title", "price", "features", "provenance", "updated_at"])
    images = list(product.images.order_by("position"))
    chosen = next((img for img in images if img.pk == main_image_id), None)
    if chosen is not None and images and images[0].pk != chosen.pk:
        ordered = [chosen] + [img for img in images if img.pk != chosen.pk]
        for position, img in enumerate(ordered):
            img.position = position
            img.save(update_fields=["position"])
    audit_log_write(workspace=workspace, action="product.corrected", actor=actor, target=str(product.pk))
    return product


def credit_estimate(*, aspects: list[str], variants: int) -> int:
    return len(aspects) * variants * settings.CREDITS_PER_VIDEO


def video_batch_create(*, workspace: Workspace, brand: Brand, product: Product, template: str,
                       aspects: list[str], language: str, duration_s: int, variants: int,
                       voice: str = "", framework: str = "", music: str = "",
                       created_by=None) -> list[VideoJob]:
    """One job per (aspect, variant) for an already previewed product, all or nothing: the
    whole estimate must be covered or no job is created. Each job uses the product as
    corrected (its ingest step does not fetch the page again); variants differ by seed and
    carry their number (1..n). ``voice``/``framework``/``music`` ("" = brand's / template's)
    and one request id are stored on every job in the same transaction, before commit queues
    the first stage. ``language`` "" = auto (from the product)."""
    from generation.scripts.frameworks import FRAMEWORK_NAMES

    count = len(aspects) * variants
    if not 1 <= count <= MAX_JOBS_PER_BATCH:
        raise ValueError(f"Choose between 1 and {MAX_JOBS_PER_BATCH} videos at once.")
    if framework and framework not in FRAMEWORK_NAMES:
        raise ValueError(f"unknown framework {framework!r}")
    if music not in MUSIC_OPTIONS:
        raise ValueError(f"unknown music {music!r}")
    if len(voice) > 80:
        raise ValueError("voice name too long")
    request_id = f"req_{secrets.token_hex(10)}"
    with tenant_context(workspace), transaction.atomic():
        if credit_balance(workspace=workspace) < credit_estimate(aspects=aspects, variants=variants):
            raise InsufficientCredits("not enough credits for this batch")
        jobs = []
        for aspect in aspects:
            for variant in range(1, variants + 1):
                job = video_job_create(workspace=workspace, brand=brand, product_url=product.source_url,
                                       template=template, aspect=aspect, language=language,
                                       duration_s=duration_s, created_by=created_by)
                # Same transaction: the first stage is queued on commit, after these options.
                extra = {"product": product, "request_id": request_id, "variant": variant, "voice": voice,
                         "framework": framework, "music": music}
                VideoJob.objects.filter(pk=job.pk).update(**extra)
                for name, value in extra.items():
                    setattr(job, name, value)
                jobs.append(job)
    # Inside the batch's transaction a refused publish cannot raise (it happens at commit):
    # the refused jobs are already failed and refunded, so report the down queue here.
    with tenant_context(workspace):
        if VideoJob.objects.filter(pk__in=[j.pk for j in jobs], status=VideoJob.Status.FAILED,
                                   failure_reason=QUEUE_DOWN_REASON).exists():
            raise QueueUnavailable()
    logger.info("video_batch.created workspace=%s request=%s jobs=%s voice=%s framework=%s music=%s",
                workspace.pk, request_id, [j.pk for j in jobs], voice or "-", framework or "-", music or "-")
    return jobs


def video_job_retry(*, job: VideoJob, actor=None) -> VideoJob:
    """A failed or canceled job again, as a new job with the same inputs (a new credit hold)."""
    if job.status not in (VideoJob.Status.FAILED, VideoJob.Status.CANCELED):
        raise ValueError("Only a failed or canceled video can be retried.")
    with tenant_context(job.workspace_id), transaction.atomic():
        new = video_job_create(workspace=job.workspace, brand=job.brand, product_url=job.product_url,
                               template=job.template, aspect=job.aspect, language=job.language,
                               duration_s=job.duration_s, created_by=actor)
        VideoJob.objects.filter(pk=new.pk).update(product_id=job.product_id, voice=job.voice,
                                                  framework=job.framework, music=job.music)
        audit_log_write(workspace=job.workspace, action="video_job.retried", actor=actor, target=str(job.pk),
                        data={"new_job": new.pk})
    return new
