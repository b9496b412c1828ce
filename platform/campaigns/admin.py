"""Django admin for operators. Rows are under row-level security: the admin shows the
workspace the signed-in operator is currently in (TenantMiddleware), nothing else. Runs,
items and the seen-set are read-only here (the scheduler owns them)."""
from django.contrib import admin

from .models import Campaign, CampaignRun, CampaignRunItem, CampaignSeenProduct


class _TenantAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        return self.model.unscoped.all()  # RLS scopes it to the request's workspace


class _ReadOnly(_TenantAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(_TenantAdmin):
    list_display = ("name", "workspace", "source_kind", "mode", "schedule", "timezone", "paused", "next_due_at")
    list_filter = ("paused", "source_kind", "mode")
    search_fields = ("name",)
    readonly_fields = ("next_due_at", "created_at", "updated_at")


class _ItemInline(admin.TabularInline):
    model = CampaignRunItem
    fields = ("position", "product_url", "template", "aspect", "language", "variant", "status", "skip_reason", "job")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return CampaignRunItem.unscoped.all()


@admin.register(CampaignRun)
class CampaignRunAdmin(_ReadOnly):
    list_display = ("campaign", "scheduled_for", "trigger", "status", "attempts", "products_found",
                    "jobs_created", "jobs_succeeded", "jobs_failed", "credits_used")
    list_filter = ("status", "trigger")
    inlines = [_ItemInline]


@admin.register(CampaignSeenProduct)
class CampaignSeenProductAdmin(_ReadOnly):
    list_display = ("campaign", "product_key", "product_url", "last_price", "first_seen_at", "last_seen_at")
    search_fields = ("product_key", "product_url")
