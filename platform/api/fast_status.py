"""`GET /api/v1/videos/{id}` answered before most of the middleware stack and without DRF:
the status poll is the API's hottest route (integrators poll every few seconds per video).

It answers only the plain success case, with the same guarantees and the same bytes as the
full route (tests/platform/api/test_fast_paths.py compares them):
- the key must already be in this process's checked-key cache (api.auth) under the current
  shared auth epoch, read in the same Redis round trip that counts the request against the
  per-key and per-workspace rate limits, and still within API_KEY_CACHE_TTL_S;
- the key must have the read scope and be under both rate limits;
- the row is read under row-level security: ``set_config('app.tenant_id')``, the ORM's
  compiled by-id query (workspace filter in SQL) and the restore go to PostgreSQL as one
  message, one round trip instead of four (health check, set, select, restore);
- the body is api.videos.video_body rendered by DRF's JSONRenderer, with the same ETag
  (If-None-Match → 304), Allow and X-Frame-Options headers.

Anything else (no or unknown key, stale epoch, missing scope, over a limit, a forged or
unknown id, a query string, another Accept, a database error) falls through to the full
Django + DRF route, which answers it as before; the rate-limit counts and the epoch read
here are handed to it, so a request is never counted twice. API_FAST_STATUS=0 turns it off."""
from __future__ import annotations

import re
import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, HttpResponseNotModified
from rest_framework.renderers import JSONRenderer

from config.db_unavailable import DB_ERRORS
from generation.jobs.models import VideoJob
from tenancy.auth_epoch import CACHE_KEY as AUTH_EPOCH_CACHE_KEY
from tenancy.context import current_workspace_id
from tenancy.models import ApiKey

from . import auth
from .permissions import key_has_scope
from .throttling import throttle_count_and_read, throttle_wait
from .views import compiled_row_query, etag_matches, etag_of, row_from_values

PATH = re.compile(r"/api/v1/videos/([1-9][0-9]{0,17})")
ACCEPTABLE = ("", "*/*", "application/json", "application/*")
ALLOW = "GET, HEAD, OPTIONS"  # VideoDetail's methods, as DRF lists them
_renderer = JSONRenderer()


class VideoStatusFastPath:
    """Middleware, right after SecurityMiddleware (TLS redirect and security headers still apply)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET" and settings.API_FAST_STATUS:
            match = PATH.fullmatch(request.path_info)
            if match is not None:
                response = video_status_fast(request, int(match[1]))
                if response is not None:
                    return response
        return self.get_response(request)


def video_status_fast(request, pk: int) -> HttpResponse | None:
    """The 200/304 answer for one video, or None to let the full route answer."""
    meta = request.META
    if meta.get("QUERY_STRING") or meta.get("HTTP_ACCEPT", "").strip() not in ACCEPTABLE:
        return None
    parts = meta.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0] != "Bearer":
        return None
    request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it (DisallowedHost → 400)
    key_hash = ApiKey.hash_key(parts[1])
    checked = auth.cached_key(key_hash)
    if checked is None:
        return None
    values = throttle_count_and_read(request, checked.key, reads=(AUTH_EPOCH_CACHE_KEY,))
    epoch = values[0] if values else None
    request._api_prefetched_epoch = (key_hash, epoch)  # the full route must not count again
    if epoch is None or epoch != checked.epoch or checked.expires <= time.monotonic():
        return None
    key = checked.key
    _, now, limits, counts = request._api_throttle_counted
    if not key_has_scope(key, "read") or throttle_wait(limits, counts, now) > 0:
        return None
    job = _video_row(key.workspace_id, pk)
    if job is None:
        return None
    auth.touch(key, key_hash)
    from .videos import video_body  # api.videos imports DRF views; this module is loaded first

    content = _renderer.render(video_body(job, request=request))
    etag = etag_of(content)
    if etag_matches(etag, meta.get("HTTP_IF_NONE_MATCH", "")):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(content, content_type="application/json")
        response["Allow"] = ALLOW
        response["Content-Length"] = str(len(content))
    response["ETag"] = etag
    response["X-Frame-Options"] = getattr(settings, "X_FRAME_OPTIONS", "DENY")
    return response


def _video_row(workspace_id: int, pk: int) -> VideoJob | None:
    """The job under RLS as ``workspace_id``, in one round trip; None when absent, or when
    the connection is unusable (closed here: the full route reconnects or answers 503)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    sql, names, converters = compiled_row_query(VideoJob)
    previous = current_workspace_id()
    # One simple-query message = one implicit transaction: if the select fails, the tenant
    # setting rolls back with it (PostgreSQL undoes set_config on abort).
    message = f"SELECT set_config('app.tenant_id', %s, false); {sql}; SELECT set_config('app.tenant_id', %s, false)"
    params = [str(workspace_id), workspace_id, pk, "" if previous is None else str(previous)]
    try:
        connection.ensure_connection()
        with connection.wrap_database_errors:
            cursor = connection.connection.execute(message, params)
            cursor.nextset()
            row = cursor.fetchone()
    except DB_ERRORS:
        connection.close()
        return None
    return row_from_values(VideoJob, names, converters, row) if row is not None else None
