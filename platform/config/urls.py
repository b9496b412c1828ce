"""URL map. No route serves MEDIA_ROOT directly, in any mode: tenant files are reached through
views that check membership (dashboard, API) or through short-lived signed links (/files/)."""
from django.contrib import admin
from django.urls import include, path

from tenancy.files import signed_file_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("accounts/", include("allauth.urls")),
    path("files/<str:token>", signed_file_view, name="signed-file"),
    path("", include("dashboard.urls")),
]
