"""URLs under /api/v1/."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .bulletin import BulletinView
from .errors import not_found
from .completeness import CompletenessView
from .extract import ExtractView
from .programmes import ProgrammeViewSet
from .public import PublicRegionsView, PublicRegionView
from .regions import RegionViewSet
from .reports import ProgressReportViewSet
from .root import Router
from .summary import SummaryView
from .targets import TargetViewSet
from .tokens import TokenView

router = Router()
router.register("regions", RegionViewSet, basename="region")
router.register("programmes", ProgrammeViewSet, basename="programme")
router.register("targets", TargetViewSet, basename="target")
router.register("progress-reports", ProgressReportViewSet, basename="progress-report")

urlpatterns = [
    path("", include(router.urls)),
    path("summary/", SummaryView.as_view(), name="summary"),
    path("completeness/", CompletenessView.as_view(), name="completeness"),
    path("bulletin/", BulletinView.as_view(), name="bulletin"),
    path("public/regions/", PublicRegionsView.as_view(), name="public-regions"),
    path("public/regions/<str:code>/", PublicRegionView.as_view(), name="public-region"),
    path("token/", TokenView.as_view(), name="token"),
    path("extract/", ExtractView.as_view(), name="extract"),
    path("auth/", include("rest_framework.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Last: whatever the patterns above did not match. Only paths ending in a
    # slash, so that APPEND_SLASH still redirects /api/v1/targets to /api/v1/targets/.
    re_path(r"^.*/$", not_found),
]
