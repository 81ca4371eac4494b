"""The admin page where a manager turns a report's text into a draft programme.

Step one: paste or upload the text, name the region, kind and year. Step two:
the proposal, each figure highlighted in the text and listed with its value,
unit, name, qualifier and item, to untick, edit or move. Saving re-reads the
same text (so quotes and offsets come from the server, never from the form),
applies the person's edits and calls services.create_draft_programme.
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .. import access
from ..extraction import TextRefused, check_text, extract
from ..extraction.fixture import default_period, draft_items
from ..extraction.textfile import UnreadableFile, read_text_file
from ..importing import parse_value
from ..models import Category, Programme, ProgressReport, Region
from ..services import create_draft_programme

QUALIFIERS = ProgressReport.Qualifier.choices


class ExtractForm(forms.Form):
    region = forms.ModelChoiceField(Region.objects.none(), label="地区")
    kind = forms.ChoiceField(choices=Programme.Kind.choices, label="类型", initial=Programme.Kind.ANNUAL_REPORT)
    year = forms.IntegerField(min_value=2000, max_value=2100, label="年度", help_text="文件所覆盖的最后一年")
    period_start = forms.DateField(required=False, label="起始日期", help_text="留空：当年1月1日（多年回顾为前四年）")
    period_end = forms.DateField(required=False, label="截止日期", help_text="留空：当年12月31日")
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 14}), label="报告全文", strip=False)
    file = forms.FileField(required=False, label="或上传文本文件", help_text="UTF-8 或 GB18030 编码的 .txt")

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.visible_to(user).order_by("code")

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        try:
            text = read_text_file(upload) if upload else data.get("text", "")
            data["text"] = check_text(text)
        except (UnreadableFile, TextRefused) as refusal:
            self.add_error("file" if upload else "text", str(refusal))
            return data
        if data.get("kind") and data.get("year"):
            start, end = default_period(data["kind"], data["year"])
            data["period_start"] = data.get("period_start") or start
            data["period_end"] = data.get("period_end") or end
            if data["period_start"] > data["period_end"] or data["period_end"].year != data["year"]:
                self.add_error("period_end", "期间无效：起始日期不能晚于截止日期，且截止日期应在所给年度内")
        return data


def extract_view(model_admin, request):
    if not access.manages_plans(request.user):
        raise PermissionDenied
    form = ExtractForm(request.user, request.POST or None, request.FILES or None)
    context = {
        **model_admin.admin_site.each_context(request), "opts": model_admin.model._meta,
        "title": "从报告提取计划和数字", "form": form,
    }
    if request.method != "POST":
        return TemplateResponse(request, "admin/tracking/programme/extract.html", context)
    if not form.is_valid():
        return TemplateResponse(request, "admin/tracking/programme/extract.html", context, status=400)
    data = form.cleaned_data
    proposal = extract(data["text"], data["kind"])
    errors = []
    if "_save" in request.POST:
        errors = apply_edits(proposal, request.POST)
        if not errors:
            try:
                programme, reports = create_draft_programme(
                    user=request.user, region=data["region"], kind=data["kind"], year=data["year"],
                    period_start=data["period_start"], period_end=data["period_end"],
                    title=request.POST.get("title", proposal.title)[:200] or proposal.title,
                    items=draft_items(proposal),
                    description="从报告原文提取，经人工核对后保存。" + "；".join(f.message for f in proposal.flags),
                    source_document=(data["file"].name if data.get("file") else "")[:100],
                )
            except (ValidationError, PermissionDenied) as refusal:
                errors = refusal.messages if isinstance(refusal, ValidationError) else [str(refusal)]
            else:
                model_admin.message_user(
                    request,
                    f"已保存草稿计划“{programme.title}”：{programme.items.count()} 个事项，"
                    f"{programme.targets.count()} 个指标，{reports} 条草稿填报（请提交审核）",
                )
                url = reverse("admin:tracking_progressreport_changelist")
                return HttpResponseRedirect(f"{url}?status__exact=draft&q=")
    context.update(proposal_context(proposal, data), errors=errors, title="核对提取结果")
    return TemplateResponse(request, "admin/tracking/programme/extract_review.html", context, status=400 if errors else 200)


def apply_edits(proposal, post):
    """The person's ticks and edits, applied to the proposal read again from the same text."""
    errors = []
    for index, item in enumerate(proposal.items):
        item.title = (post.get(f"item-{index}-title") or item.title).strip()[:200]
        category = post.get(f"item-{index}-category")
        if category in Category.values:
            item.category = category
    for index, figure in enumerate(proposal.figures):
        figure.selected = f"fig-{index}-keep" in post
        if not figure.selected:
            continue
        label = f"第 {index + 1} 个数字（{figure.written}）"
        try:
            figure.value = parse_value(post.get(f"fig-{index}-value", ""))
            if figure.value <= 0:
                raise ValueError("数值应大于 0")
        except ValueError as error:
            errors.append(f"{label}：{error}")
        figure.unit = (post.get(f"fig-{index}-unit") or "").strip()[:20]
        if not figure.unit:
            errors.append(f"{label}：单位不能为空")
        figure.name = (post.get(f"fig-{index}-name") or figure.name).strip()[:200]
        qualifier = post.get(f"fig-{index}-qualifier")
        if qualifier in ProgressReport.Qualifier.values:
            figure.qualifier = qualifier
        try:
            item = int(post.get(f"fig-{index}-item", figure.item))
        except ValueError:
            item = -1
        if not 0 <= item < len(proposal.items):
            errors.append(f"{label}：所属事项无效")
        else:
            figure.item = item
    if not errors and not any(f.selected for f in proposal.figures) and proposal.kind != "annual_plan":
        errors.append("没有选中任何数字，无需保存")
    return errors


def proposal_context(proposal, data):
    return {
        "proposal": proposal,
        "highlighted": highlighted(proposal),
        "rows": [
            {"index": i, "figure": f, "value": format(f.value, "f"), "flag_labels": [FLAG_LABELS.get(x, x) for x in f.flags]}
            for i, f in enumerate(proposal.figures)
        ],
        "items": list(enumerate(proposal.items)),
        "qualifiers": QUALIFIERS,
        "categories": Category.choices,
        "hidden": {
            "region": data["region"].pk, "kind": data["kind"], "year": data["year"],
            "period_start": data["period_start"].isoformat(), "period_end": data["period_end"].isoformat(),
        },
        "text": proposal.text,
        "period": f"{data['period_start']} ~ {data['period_end']}",
        "region": data["region"],
        "kind_label": dict(Programme.Kind.choices)[data["kind"]],
    }


FLAG_LABELS = {"caption": "图片说明", "repeated": "与前文重复", "layout": "表格错乱", "split": "被版面隔断"}


def highlighted(proposal):
    """The text as HTML with each figure in a <mark>, escaped everywhere else."""
    text, parts, position = proposal.text, [], 0
    for index, figure in sorted(enumerate(proposal.figures), key=lambda pair: pair[1].start):
        if figure.start < position:
            continue  # two rates sharing one written percentage: marked once
        parts.append(format_html("{}", text[position:figure.start]))
        css = "tt-fig" if figure.selected else "tt-fig tt-off"
        parts.append(format_html('<mark id="mark-{}" class="{}" data-fig="{}">{}</mark>', index, css, index,
                                 text[figure.start:figure.end]))
        position = figure.end
    parts.append(format_html("{}", text[position:]))
    return mark_safe("".join(parts))

