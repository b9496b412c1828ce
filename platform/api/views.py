"""Shared API plumbing: every authenticated request runs inside its key's workspace; GETs
carry an ETag (If-None-Match → 304); lists use an opaque keyset cursor."""
from __future__ import annotations

import functools
import hashlib

from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpResponseNotModified
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tenancy.context import require_workspace_id, tenant_context

from .errors import ApiError
from .parsers import BodyTooLarge
from .permissions import HasScope

CURSOR_SALT = "api.cursor.v1"


class TenantAPIView(APIView):
    """Enters the API key's tenant context for the handler (DRF authenticates after middleware)."""

    permission_classes = [HasScope]
    read_scope, write_scope = "read", "write"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._tenant_cm = tenant_context(request.auth.workspace)
        self._tenant_cm.__enter__()

    def _leave_tenant(self) -> None:
        cm = getattr(self, "_tenant_cm", None)
        if cm is not None:
            self._tenant_cm = None
            cm.__exit__(None, None, None)

    def handle_exception(self, exc):
        if isinstance(exc, RequestDataTooBig):  # Django's body cap, raised before any parser
            exc = BodyTooLarge()
        return super().handle_exception(exc)

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            self._leave_tenant()  # even when error handling itself failed

    def finalize_response(self, request, response, *args, **kwargs):
        self._leave_tenant()
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method == "GET" and response.status_code == 200 and hasattr(response, "render"):
            response.render()
            etag = etag_of(response.content)
            response["ETag"] = etag
            if etag_matches(etag, request.headers.get("If-None-Match", "")):
                not_modified = HttpResponseNotModified()
                not_modified["ETag"] = etag
                return not_modified
        return response

    @property
    def workspace(self):
        return self.request.auth.workspace

    def row_or_404(self, model, pk: int):
        """``get_object_or_404(model.objects.all(), pk=pk)``, faster (tenant_row)."""
        obj = tenant_row(model, pk)
        if obj is None:
            raise ApiError("not_found", f"No such {model._meta.verbose_name} in this workspace.")
        return obj

    def get_object_or_404(self, queryset, **lookup):
        """One row of the current workspace (the scoped manager + RLS) or a 404 problem."""
        obj = queryset.filter(**lookup).first()
        if obj is None:
            raise ApiError("not_found", f"No such {queryset.model._meta.verbose_name} in this workspace.")
        return obj


_WS, _PK = 987_654_321, 123_456_789  # placeholders, told apart in the compiled parameters


@functools.lru_cache(maxsize=None)
def _compiled(model, first: bool) -> tuple[str, list[str], list]:
    """The ORM's own SQL for ``model.unscoped.filter(workspace_id=?, pk=?)`` (or, ``first``,
    the workspace's lowest-id row), compiled once."""
    rows = model.unscoped.filter(workspace_id=_WS)
    rows = rows.order_by("pk")[:1] if first else rows.filter(pk=_PK).order_by()
    sql, params = rows.query.sql_with_params()
    if tuple(params) != ((_WS,) if first else (_WS, _PK)):
        raise RuntimeError(f"unexpected parameters compiling a {model.__name__} lookup: {params}")
    fields = model._meta.concrete_fields
    converters = [(i, f.from_db_value) for i, f in enumerate(fields) if hasattr(f, "from_db_value")]
    return sql, [f.attname for f in fields], converters


def etag_of(content: bytes) -> str:
    """The strong ETag of a GET's body (this route and api.fast_status give the same)."""
    return '"%s"' % hashlib.sha256(content).hexdigest()[:32]


def etag_matches(etag: str, if_none_match: str) -> bool:
    return etag in [t.strip() for t in if_none_match.split(",")]


def compiled_row_query(model) -> tuple[str, list[str], list]:
    """(sql with workspace_id and pk parameters, field attnames, converters) of the by-id
    lookup, compiled once (api.fast_status sends it inside its one-message round trip)."""
    return _compiled(model, False)


def row_from_values(model, names: list[str], converters: list, row) -> object:
    """A model instance from one row of a compiled query (the ORM's from_db_value converters)."""
    values = list(row)
    for index, convert in converters:
        values[index] = convert(values[index], None, connection)
    return model.from_db(connection.alias, names, values)


def _one(model, first: bool, params: list):
    sql, names, converters = _compiled(model, first)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row_from_values(model, names, converters, row) if row is not None else None


def tenant_row(model, pk: int):
    """One row of a tenant model in the current workspace, or None: the same query as
    ``model.objects.filter(pk=pk).first()`` (workspace filter in SQL, RLS underneath) without
    compiling it on every call (~0.6 ms of CPU on a status poll)."""
    return _one(model, False, [require_workspace_id(), pk])


def tenant_first(model):
    """``model.objects.order_by("pk").first()`` in the current workspace, compiled once."""
    return _one(model, True, [require_workspace_id()])


class CursorQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    cursor = serializers.CharField(required=False, max_length=200, help_text="`next_cursor` of the previous page")


def cursor_page(queryset, *, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """Keyset pagination on the primary key, newest first: rows created after the first
    page was read never shift later pages (no repeats, no gaps). The cursor is signed."""
    if cursor:
        try:
            last_id = signing.loads(cursor, salt=CURSOR_SALT)["id"]
        except (signing.BadSignature, KeyError, TypeError) as exc:
            raise ApiError("invalid_request", "This cursor is not valid (use next_cursor as given).",
                           param="cursor") from exc
        queryset = queryset.filter(pk__lt=last_id)
    rows = list(queryset.order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = signing.dumps({"id": rows[-1].pk}, salt=CURSOR_SALT, compress=True) if more else None
    return rows, next_cursor


def page_body(rows: list, serializer_class, *, next_cursor: str | None, context: dict) -> dict:
    return {"data": serializer_class(rows, many=True, context=context).data,
            "next_cursor": next_cursor, "has_more": next_cursor is not None}


def page_response(request, queryset, serializer_class, *, query_serializer=CursorQuerySerializer,
                  context: dict | None = None) -> Response:
    """GET list routes: validate the query (cursor, limit, filters), then one page of
    ``queryset`` in the page envelope."""
    query = query_serializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    rows, next_cursor = cursor_page(queryset, cursor=query.validated_data.get("cursor"),
                                    limit=query.validated_data["limit"])
    return Response(page_body(rows, serializer_class, next_cursor=next_cursor, context=context or {}))


def page_serializer(item_serializer, name: str):
    """An OpenAPI-documented page envelope {data, next_cursor, has_more}."""
    return type(name, (serializers.Serializer,), {
        "data": item_serializer(many=True),
        "next_cursor": serializers.CharField(allow_null=True),
        "has_more": serializers.BooleanField(),
    })
