from django.contrib import admin
from django.urls import include, path

from tracking.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("tracking.api.urls")),
    path("healthz", healthz),
]
