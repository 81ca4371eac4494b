"""公示: a region's approved progress for workers, on their phones. Server-rendered, no script.

/gongshi/ lists the provinces; /gongshi/<region code>/ is a region's page
(public/selectors.region_page()); /gongshi/evidence/<report id>/ is the
evidence file a reviewer published. Open only with TRACKING_PUBLIC_READ; the
answers are the same for everyone and cached as public (public/caching.py).
The page never reads the session or the user, so nothing in it varies by
who is asking and no cookie is set.
"""

from types import SimpleNamespace

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from ..charts import progress_chart
from ..evidence import evidence_response
from ..models import ProgressReport, Region
from . import selectors
from .caching import public_response


def published(view):
    """404 unless the tracker publishes (TRACKING_PUBLIC_READ)."""

    def wrapped(request, *args, **kwargs):
        if not settings.TRACKING_PUBLIC_READ:
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.__name__, wrapped.__doc__ = view.__name__, view.__doc__
    return wrapped


@require_safe
@published
def index(request):
    return public_response(
        request, lambda: TemplateResponse(request, "public/index.html", {"regions": selectors.top_regions()})
    )


@require_safe
@published
def region_page(request, code):
    def respond():
        region = get_object_or_404(Region.objects.select_related("parent"), code=code)
        context = selectors.region_page(region)
        for programme in context["programmes"]:
            for item in programme["items"]:
                for target in item["targets"]:
                    target["chart"] = progress_chart(
                        SimpleNamespace(**target), target["series"], today=context["today"]
                    )
        return TemplateResponse(request, "public/region.html", context)

    return public_response(request, respond)


@require_safe
@published
def evidence(request, report_id):
    """A published evidence file: 404 for any other report, as for one that does not exist."""
    # On the primary: a replica behind a withdrawal would still serve the file.
    report = get_object_or_404(
        ProgressReport.objects.using("default"), pk=report_id, status=ProgressReport.Status.APPROVED,
        evidence_public=True,
    )
    response = evidence_response(report, name=f"evidence-{report.pk}")
    # Public like the pages: a proxy may keep it for max-age after a reviewer withdraws it.
    patch_cache_control(response, public=True, max_age=settings.TRACKING_PUBLIC_MAX_AGE)
    return response
