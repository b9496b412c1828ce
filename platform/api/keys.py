"""/api/v1/keys: create (the secret is shown once), list, revoke. Admin scope."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from tenancy.models import ApiKey
from tenancy.services import api_key_create, api_key_revoke

from .idempotency import idempotent
from .views import CursorQuerySerializer, TenantAPIView, page_response, page_serializer


class KeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]


class KeyWithSecretSerializer(KeySerializer):
    key = serializers.CharField(help_text="Shown once; only its hash is stored")

    class Meta(KeySerializer.Meta):
        fields = KeySerializer.Meta.fields + ["key"]


class KeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    scopes = serializers.MultipleChoiceField(choices=["read", "write", "admin"], default=["read", "write"])


class _AdminView(TenantAPIView):
    read_scope, write_scope = "admin", "admin"


class KeyListCreate(_AdminView):
    @extend_schema(request=KeyCreateSerializer, responses={201: KeyWithSecretSerializer}, tags=["keys"],
                   summary="Create an API key (shown once)")
    @idempotent
    def post(self, request):
        data = KeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = api_key_create(workspace=self.workspace, name=data.validated_data["name"],
                                  scopes=sorted(data.validated_data["scopes"]), created_by=request.auth.created_by)
        return Response({**KeySerializer(key).data, "key": raw}, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[CursorQuerySerializer], responses=page_serializer(KeySerializer, "KeyPage"),
                   tags=["keys"], summary="List API keys (prefix, scopes, last use)")
    def get(self, request):
        keys = ApiKey.objects.filter(workspace=self.workspace)  # not under RLS: scope explicitly
        return page_response(request, keys, KeySerializer)


class KeyRevoke(_AdminView):
    @extend_schema(request=None, responses=KeySerializer, tags=["keys"], summary="Revoke an API key")
    @idempotent
    def post(self, request, pk: int):
        key = self.get_object_or_404(ApiKey.objects.filter(workspace=self.workspace), pk=pk)
        key = api_key_revoke(workspace=self.workspace, prefix=key.prefix, actor=request.auth.created_by)
        return Response(KeySerializer(key).data)
