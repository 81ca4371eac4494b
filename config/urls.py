from django.contrib import admin
from django.urls import include, path

from tracking.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("tracking.urls_api")),
    path("healthz", healthz),
]
