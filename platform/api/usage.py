"""/api/v1/usage: credit balance, open reservations, consumption by day."""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from tenancy.models import CreditLedger
from tenancy.services import credit_balance

from .views import TenantAPIView


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    credits = serializers.IntegerField()
    videos = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text="Spendable credits (holds already deducted)")
    reserved = serializers.IntegerField(help_text="Credits held by queued/running videos")
    reservations = serializers.IntegerField(help_text="Number of open holds")
    consumption = DaySerializer(many=True, help_text="Committed credits per day, last 30 days")


class UsageQuery(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=366, default=30)


def usage_summary(*, workspace, days: int) -> dict:
    """Balance, open holds and committed consumption per day (current workspace)."""
    held = CreditLedger.objects.filter(kind=CreditLedger.Kind.RESERVE, state=CreditLedger.State.HELD).aggregate(
        total=Sum("amount"), n=Count("id"))
    since = timezone.now() - timedelta(days=days)
    per_day = (CreditLedger.objects.filter(kind=CreditLedger.Kind.RESERVE, state=CreditLedger.State.COMMITTED,
                                           created_at__gte=since)
               .annotate(date=TruncDate("created_at")).values("date")
               .annotate(credits=Sum("amount"), videos=Count("id")).order_by("date"))
    return {"balance": credit_balance(workspace=workspace), "reserved": -(held["total"] or 0),
            "reservations": held["n"], "consumption": [
                {"date": row["date"], "credits": -row["credits"], "videos": row["videos"]} for row in per_day]}


class Usage(TenantAPIView):
    read_scope, write_scope = "read", "admin"

    @extend_schema(parameters=[UsageQuery], responses=UsageSerializer, tags=["usage"],
                   summary="Credit balance, holds and consumption by day")
    def get(self, request):
        query = UsageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(UsageSerializer(usage_summary(workspace=self.workspace, days=query.validated_data["days"])).data)
