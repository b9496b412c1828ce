from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import brands, docs, keys, loras, products, usage, videos
from .campaigns import urlpatterns as campaign_urls
from .errors import problem_not_found_view
from .webhooks import views as webhooks

app_name = "api"
_public = {"permission_classes": [], "authentication_classes": [], "throttle_classes": []}

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(**_public), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema", **_public), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", **_public), name="redoc"),
    path("docs/errors", docs.error_codes, name="error-codes"),
    # videos
    path("v1/videos", videos.VideoListCreate.as_view(), name="videos"),
    path("v1/videos/batch", videos.VideoBatch.as_view(), name="videos-batch"),
    path("v1/videos/estimate", videos.VideoEstimate.as_view(), name="videos-estimate"),
    path("v1/videos/<int:pk>", videos.VideoDetail.as_view(), name="video"),
    path("v1/videos/<int:pk>/cancel", videos.VideoCancel.as_view(), name="video-cancel"),
    path("v1/videos/<int:pk>/timeline", videos.VideoTimeline.as_view(), name="video-timeline"),
    path("v1/files/<str:token>", videos.VideoDownload.as_view(), name="download"),
    # products
    path("v1/products", products.ProductListCreate.as_view(), name="products"),
    path("v1/products/<int:pk>", products.ProductDetail.as_view(), name="product"),
    path("v1/products/<int:pk>/reingest", products.ProductReingest.as_view(), name="product-reingest"),
    path("v1/product-ingestions/<int:pk>", products.ProductIngestionDetail.as_view(), name="product-ingestion"),
    # brands
    path("v1/brands", brands.BrandListCreate.as_view(), name="brands"),
    path("v1/brands/<int:pk>", brands.BrandDetail.as_view(), name="brand"),
    path("v1/brands/<int:pk>/logo", brands.BrandLogo.as_view(), name="brand-logo"),
    path("v1/brands/<int:pk>/loras", loras.BrandLoras.as_view(), name="brand-loras"),
    path("v1/brands/<int:pk>/loras/<int:lora_id>/activate", loras.LoraActivate.as_view(), name="lora-activate"),
    # keys, usage
    path("v1/keys", keys.KeyListCreate.as_view(), name="keys"),
    path("v1/keys/<int:pk>/revoke", keys.KeyRevoke.as_view(), name="key-revoke"),
    path("v1/usage", usage.Usage.as_view(), name="usage"),
    # webhooks
    path("v1/webhooks", webhooks.EndpointListCreate.as_view(), name="webhooks"),
    path("v1/webhooks/<int:pk>", webhooks.EndpointDetail.as_view(), name="webhook"),
    path("v1/webhooks/<int:pk>/rotate", webhooks.EndpointRotate.as_view(), name="webhook-rotate"),
    path("v1/webhooks/<int:pk>/test", webhooks.EndpointTest.as_view(), name="webhook-test"),
    path("v1/webhooks/<int:pk>/deliveries", webhooks.DeliveryList.as_view(), name="webhook-deliveries"),
    path("v1/webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver", webhooks.DeliveryRedeliver.as_view(),
         name="webhook-redeliver"),
    *campaign_urls,  # /api/v1/campaigns, runs, the store-push hook (api/campaigns.py)
    re_path(r"^v1/.*$", problem_not_found_view),  # last: unknown API paths get a problem+json 404
]
