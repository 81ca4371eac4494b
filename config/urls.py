from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from tracking.views import healthz

urlpatterns = [
    # Where a newcomer and the admin's 查看站点 link land: the admin, until there are public pages.
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("tracking.api.urls")),
    # 公示: public pages for workers (open with TRACKING_PUBLIC_READ).
    path("gongshi/", include("tracking.public.urls")),
    path("healthz", healthz),
]
