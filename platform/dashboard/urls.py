from django.urls import path
from django.views.generic import RedirectView

from . import brand, developers, jobs, library, lora, team, views, webhooks
from .campaign_views import urlpatterns as campaign_urlpatterns

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    # Accounts live under /accounts/ (allauth); the old paths keep working.
    path("login/", RedirectView.as_view(pattern_name="account_login", query_string=True), name="login"),
    path("welcome/", views.onboarding, name="onboarding"),
    path("workspace/new/", views.no_workspace, name="no-workspace"),
    path("workspace/switch/", views.workspace_switch, name="workspace-switch"),
    path("create/", views.create, name="create"),
    path("create/product/<int:pk>/", views.preview, name="preview"),
    path("products/<int:pk>/images/<int:image_pk>", views.product_image, name="product-image"),
    path("templates/<slug:name>.jpg", views.template_preview, name="template-preview"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job"),
    path("jobs/<int:pk>/status.json", jobs.job_status, name="job-status"),
    path("jobs/<int:pk>/files/<str:name>", jobs.job_file, name="job-file"),
    path("jobs/<int:pk>/shots/<int:n>", jobs.job_shot, name="job-shot"),
    path("jobs/<int:pk>/retry/", jobs.job_retry, name="job-retry"),
    path("jobs/<int:pk>/rerender/", jobs.job_rerender, name="job-rerender"),
    path("library/", library.library, name="library"),
    path("library/download.zip", library.library_zip, name="library-zip"),
    path("brand/", brand.brand_home, name="brand"),
    path("brand/new/", brand.brand_edit, name="brand-new"),
    path("brand/<int:pk>/", brand.brand_edit, name="brand-edit"),
    path("brand/<int:pk>/logo", brand.brand_logo, name="brand-logo"),
    path("brand/<int:pk>/sample.png", brand.brand_sample, name="brand-sample"),
    path("brand/<int:pk>/lora/", lora.brand_lora, name="brand-lora"),
    path("brand/<int:pk>/lora/<int:version>/activate/", lora.brand_lora_activate, name="brand-lora-activate"),
    path("brand/<int:pk>/lora/<int:version>/samples.png", lora.brand_lora_samples, name="brand-lora-samples"),
    path("brand/<int:pk>/voice-sample.wav", brand.brand_voice_sample, name="brand-voice"),
    path("members/", team.members, name="members"),
    path("members/<int:pk>/role/", team.member_role, name="member-role"),
    path("members/<int:pk>/remove/", team.member_remove, name="member-remove"),
    path("invitations/<int:pk>/revoke/", team.invitation_revoke, name="invitation-revoke"),
    path("invite/<str:token>/", team.invite, name="invite"),
    path("developers/keys/", developers.api_keys, name="keys"),
    path("developers/keys/<str:prefix>/revoke/", developers.api_key_revoke_view, name="key-revoke"),
    path("developers/webhooks/", webhooks.webhooks, name="webhooks"),
    path("developers/webhooks/<int:pk>/", webhooks.webhook_detail, name="webhook"),
    path("developers/webhooks/<int:pk>/rotate/", webhooks.webhook_rotate, name="webhook-rotate"),
    path("developers/webhooks/<int:pk>/test/", webhooks.webhook_test, name="webhook-test"),
    path("developers/webhooks/<int:pk>/toggle/", webhooks.webhook_toggle, name="webhook-toggle"),
    path("developers/webhooks/<int:pk>/delete/", webhooks.webhook_delete, name="webhook-delete"),
    path("developers/webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver/", webhooks.webhook_redeliver,
         name="webhook-redeliver"),
    path("usage/", developers.usage, name="usage"),
] + campaign_urlpatterns  # campaign pages (platform/dashboard/campaign_views.py)
