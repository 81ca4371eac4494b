"""生成通报: the admin's form for a region's 进展情况通报, answering the .docx (tracking/bulletin).

Linked from the dashboard. The regions offered are those the user sees above
district level, and their own region (a district makes its own); the answer
is the same document as GET /api/v1/bulletin/.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..bulletin import document
from ..bulletin.figures import bulletin_figures
from ..models import Region


def bulletin_regions(user):
    """The regions whose bulletin the user may make: visible ones above district level, and their own."""
    membership = getattr(user, "membership", None)
    own = Q(code=membership.region_id) if membership else Q(pk__in=[])
    return Region.objects.visible_to(user).filter(own | ~Q(level=Region.Level.DISTRICT)).order_by("code")


class BulletinForm(forms.Form):
    region = forms.ModelChoiceField(queryset=Region.objects.none(), label=gettext_lazy("地区"), empty_label=None)
    as_of = forms.DateField(label=gettext_lazy("截至日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = bulletin_regions(user)


def bulletin_view(target_admin, request):
    if not target_admin.has_view_permission(request):
        raise PermissionDenied
    data = request.GET if "region" in request.GET else None
    form = BulletinForm(data, user=request.user, initial={"as_of": timezone.localdate()})
    if form.is_valid():
        bulletin = bulletin_figures(region=form.cleaned_data["region"], as_of=form.cleaned_data["as_of"])
        response = HttpResponse(document.build(bulletin), content_type=document.DOCX)
        response["Content-Disposition"] = content_disposition_header(True, document.filename(bulletin))
        return response
    context = {**target_admin.admin_site.each_context(request), "form": form, "title": _("生成通报")}
    return TemplateResponse(request, "admin/tracking/bulletin.html", context)
