from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import videos
from .campaigns import urlpatterns as campaign_urls

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]), name="schema"),
    path("v1/videos", videos.VideoListCreate.as_view(), name="videos"),
    path("v1/videos/<int:pk>", videos.VideoDetail.as_view(), name="video"),
    path("v1/videos/<int:pk>/files/<str:name>", videos.VideoFile.as_view(), name="video-file"),
] + campaign_urls  # /api/v1/campaigns (campaigns helper)
