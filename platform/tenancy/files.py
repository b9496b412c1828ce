"""Short-lived signed links to a workspace's stored files (the form the API hands out).

Nothing under MEDIA_ROOT is served unauthenticated: a file is reached either through a view
that checks membership (dashboard, API) or through a link minted here. A link names one
workspace and one storage-relative path under ``workspaces/<id>/``, carries its expiry and is
signed with SECRET_KEY (HMAC, ``django.core.signing``), so it cannot be edited to point at
another tenant's file or kept alive past its expiry.
"""
from __future__ import annotations

import logging
import mimetypes
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse

logger = logging.getLogger(__name__)

_SALT = "tenancy.files.signed-url.v1"
MAX_TTL_S = 24 * 3600
# Shown inline; anything else (HTML, SVG, ...) is a download so it can never run script here.
_INLINE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}


class SignedFileError(Http404):
    """A link that is forged, edited, expired or points outside its workspace (answered 404)."""


@dataclass(frozen=True)
class SignedFile:
    workspace_id: int
    relpath: str
    expires_at: int


def _workspace_prefix(workspace_id: int) -> str:
    return f"workspaces/{int(workspace_id)}/"


def _clean_relpath(*, workspace_id: int, relpath: str) -> str:
    """The storage-relative path if it lies inside the workspace's folder, else ValueError."""
    path = PurePosixPath(str(relpath).replace("\\", "/"))
    if path.is_absolute() or any(part in {"..", ""} for part in path.parts) or "\x00" in str(relpath):
        raise ValueError(f"not a clean storage-relative path: {relpath!r}")
    clean = str(path)
    if not clean.startswith(_workspace_prefix(workspace_id)):
        raise ValueError(f"{relpath!r} is not inside workspace {workspace_id}'s files")
    return clean


# One mechanism for every expiring link the app hands out: a signed claim set naming its
# workspace and expiry, one salt per kind of link (a token minted for one kind never opens
# another), verified in one place. Kinds: "file" (one stored path, /files/<token>, below) and
# "video" (a job's output by name, resolved at download time: api/video_requests.py).
LINK_SALTS = {"file": _SALT, "video": "tenancy.files.video-output.v1"}


def link_sign(*, kind: str, workspace_id: int, expires_at: int, **claims) -> str:
    """A signed token for ``claims`` of ``kind`` in ``workspace_id``, valid until ``expires_at``
    (Unix seconds). Deterministic (no signing time; the expiry is a claim): the same claims
    give the same token, so a response carrying links keeps its ETag until the expiry moves."""
    return signing.Signer(salt=LINK_SALTS[kind]).sign_object(
        {**claims, "w": int(workspace_id), "e": int(expires_at)}, compress=True)


def link_verify(*, token: str, kind: str, now: float | None = None) -> dict:
    """The claims of a valid, unexpired token of ``kind`` (with "w" and "e"); SignedFileError
    (a 404) when it is forged, edited, of another kind or expired."""
    try:
        if token.count(":") == 1:
            data = signing.Signer(salt=LINK_SALTS[kind]).unsign_object(token)
        else:  # signed with a timestamp before links became deterministic (still valid until "e")
            data = signing.loads(token, salt=LINK_SALTS[kind])
        data["w"], data["e"] = int(data["w"]), int(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        logger.warning("signed_link.rejected kind=%s reason=%s", kind, type(exc).__name__)
        raise SignedFileError("This link is invalid.") from exc
    if (time.time() if now is None else now) >= data["e"]:
        logger.info("signed_link.expired kind=%s workspace=%s", kind, data["w"])
        raise SignedFileError("This link has expired.")
    return data


def signed_file_url(*, workspace, relpath: str, ttl_s: int = 900) -> str:
    """A relative URL (``/files/<token>``) that serves ``relpath`` for ``ttl_s`` seconds.

    ``relpath`` must lie under ``workspaces/<workspace.pk>/``; links to another tenant's files
    cannot be minted. Build an absolute URL with ``request.build_absolute_uri``."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    if not 0 < ttl_s <= MAX_TTL_S:
        raise ValueError(f"ttl_s must be in 1..{MAX_TTL_S}")
    clean = _clean_relpath(workspace_id=workspace_id, relpath=relpath)
    token = link_sign(kind="file", workspace_id=workspace_id, expires_at=int(time.time()) + int(ttl_s), p=clean)
    return reverse("signed-file", kwargs={"token": token})


def signed_file_verify(*, token: str, now: float | None = None) -> SignedFile:
    """Check signature, expiry and workspace confinement; SignedFileError (404) otherwise."""
    data = link_verify(token=token, kind="file", now=now)
    try:
        signed = SignedFile(workspace_id=data["w"], relpath=str(data["p"]), expires_at=data["e"])
        _clean_relpath(workspace_id=signed.workspace_id, relpath=signed.relpath)
    except (KeyError, TypeError, ValueError) as exc:
        logger.warning("signed_file.rejected reason=%s", type(exc).__name__)
        raise SignedFileError("This link is invalid.") from exc
    return signed


def signed_file_view(request: HttpRequest, token: str) -> FileResponse:
    """GET /files/<token>: stream the file a valid, unexpired link names (404 otherwise)."""
    signed = signed_file_verify(token=token)
    if not default_storage.exists(signed.relpath):
        raise Http404("The file is gone.")
    name = PurePosixPath(signed.relpath).name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(signed.relpath, "rb"), content_type=content_type,
                            as_attachment=content_type not in _INLINE_TYPES, filename=name)
    # The link is a bearer credential: keep it out of shared caches and Referer headers.
    response["Cache-Control"] = "private, max-age=60"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = "nosniff"
    logger.info("signed_file.served workspace=%s path=%s", signed.workspace_id, signed.relpath)
    return response
