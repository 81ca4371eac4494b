"""Importing reports from a spreadsheet in the admin: upload, a preview that writes nothing, then confirm."""

import datetime
import os
import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access
from ..importing import COLUMNS, ImportFileError, import_reports, read_table
from ..models import Programme

IMPORT_SESSION_KEY = "tracking_import"
IMPORT_PREVIEW_ROWS = 500


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("文件"), help_text=gettext_lazy("CSV（UTF-8 或 GB18030 编码）或 Excel .xlsx，表头与模板一致")
    )


class ImportViews:
    """The import pages of the report admin: upload and preview (import_view), then confirm."""

    def has_import_permission(self, request):
        return self.has_add_permission(request) and access.enters_reports(request.user)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": _("导入进度填报")}
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            # One byte over the limit is enough for read_table() to refuse the file.
            data = ContentFile(upload.read(settings.TRACKING_IMPORT_MAX_BYTES + 1), name=upload.name)
            try:
                rows = read_table(data)
                result = import_reports(user=request.user, rows=rows, dry_run=True)
            except ImportFileError as error:
                form.add_error("file", str(error))
            else:
                token = remember_upload(request, data) if result.ok else None
                return TemplateResponse(
                    request, "admin/tracking/progressreport/import_preview.html",
                    {**context, **preview_context(rows, result), "token": token, "title": _("导入预览（尚未写入）")},
                    # A refused file is a client error, also for scripts that post here.
                    status=200 if result.ok else 400,
                )
        programmes = Programme.objects.visible_to(request.user).select_related("region").order_by("-year", "region")
        context.update(form=form, programmes=programmes, columns=[aliases[0] for aliases in COLUMNS.values()])
        return TemplateResponse(
            request, "admin/tracking/progressreport/import.html", context, status=400 if form.errors else 200
        )

    def import_confirm_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:tracking_progressreport_import"))
        pending = request.session.get(IMPORT_SESSION_KEY)
        if not pending or pending.get("token") != request.POST.get("token"):
            self.message_user(request, _("导入已过期或已完成，请重新上传文件"), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:tracking_progressreport_import"))
        try:
            with default_storage.open(pending["path"], "rb") as stored:
                data = ContentFile(stored.read(), name=pending["name"])
        except FileNotFoundError:
            forget_upload(request)
            self.message_user(request, _("导入已过期或已完成，请重新上传文件"), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:tracking_progressreport_import"))
        try:
            rows = read_table(data)
            result = import_reports(user=request.user, rows=rows, dry_run=False)
        except ImportFileError as error:
            forget_upload(request)
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:tracking_progressreport_import"))
        forget_upload(request)
        if not result.ok:
            # The data changed between the preview and the confirmation.
            context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                       **preview_context(rows, result), "title": _("导入未完成")}
            return TemplateResponse(request, "admin/tracking/progressreport/import_preview.html", context, status=400)
        self.message_user(
            request,
            _("导入完成：新增 %(created)d 条，更新 %(updated)d 条，未变 %(unchanged)d 条（均为草稿，请提交审核）")
            % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:tracking_progressreport_changelist"))


def remember_upload(request, data):
    """Keep a previewed file until it is confirmed; only this session can name it."""
    forget_upload(request)
    extension = os.path.splitext(data.name)[1].lower()[:8]
    token = uuid.uuid4().hex
    data.seek(0)
    saved = default_storage.save(f"imports/{token}{extension}", data)
    request.session[IMPORT_SESSION_KEY] = {"token": token, "path": saved, "name": data.name}
    return token


def forget_upload(request):
    pending = request.session.pop(IMPORT_SESSION_KEY, None)
    if pending:
        default_storage.delete(pending["path"])


def preview_context(rows, result):
    headers = {column: aliases[0] for column, aliases in COLUMNS.items()}
    errors = [(e.row, headers.get(e.field, e.field or "—"), e.message) for e in result.errors]
    # Rows with errors are marked, and so are the cells an error names.
    problems = {}
    for e in result.errors:
        columns, messages = problems.setdefault(e.row, (set(), []))
        columns.add(e.field)
        messages.append(e.message)
    table = []
    for index, row in enumerate(rows[:IMPORT_PREVIEW_ROWS]):
        number = index + 2
        columns, messages = problems.get(number, (set(), []))
        cells = [(as_typed(row.get(column, "")), column in columns) for column in COLUMNS]
        table.append((number, cells, messages))
    return {
        "result": result,
        "errors": errors,
        "headers": list(headers.values()),
        "rows": table,
        "row_count": len(rows),
        "rows_truncated": len(rows) > IMPORT_PREVIEW_ROWS,
    }


def as_typed(cell):
    """A cell as the clerk typed it: 12000 rather than the 12000.0 Excel stores, a date without 00:00:00."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime.datetime) and cell.time() == datetime.time():
        return cell.date().isoformat()
    return str(cell)
