"""The Django admin: where district union clerks enter progress and city unions review it.

One module per admin (regions, programmes, targets, reports) and one per
shared piece: scope (row-level scope and service refusals), filters,
display (numbers, bars, badges), imports (the spreadsheet import pages) and
dashboard (进度看板). Two rules hold everywhere: every queryset, choice list
and object permission starts from visible_to(user), and every write goes
through tracking.services, so the admin cannot do what the API may not.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from . import programmes, regions, reports, targets  # noqa: F401  (each registers its admins)

admin.site.site_header = gettext_lazy("职工实事跟踪 · 管理后台")
admin.site.site_title = gettext_lazy("职工实事跟踪")
admin.site.index_title = gettext_lazy("数据填报与审核")
# The admin app's own index.html comes first in template lookup, so ours is named here.
admin.site.index_template = "admin/tracking/index.html"
