"""URLs under /gongshi/ (公示)."""

from django.urls import path

from . import views

app_name = "public"
urlpatterns = [
    path("", views.index, name="index"),
    path("evidence/<int:report_id>/", views.evidence, name="evidence"),
    path("<str:code>/", views.region_page, name="region"),
]
