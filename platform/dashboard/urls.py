from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .campaign_views import urlpatterns as campaign_urlpatterns

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="dashboard/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="dashboard:login"), name="logout"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/status.json", views.job_status, name="job-status"),
    path("jobs/<int:pk>/files/<str:name>", views.job_file, name="job-file"),
] + campaign_urlpatterns  # campaign pages (campaigns helper)
