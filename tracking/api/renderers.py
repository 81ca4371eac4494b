"""?format=csv for lists a spreadsheet opens."""

import csv
import io
from decimal import Decimal

from rest_framework import serializers
from rest_framework.renderers import BaseRenderer

from ..exports import excel_safe


class CSVRenderer(BaseRenderer):
    """?format=csv: UTF-8 with a BOM (so Excel detects it), the fields' Chinese labels as headers, and
    choices by their labels (草稿, 未开始, 思想政治引领) as in the admin's export, which the import reads back.
    The JSON keeps the codes."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        rows = data if isinstance(data, list) else [data]
        view = renderer_context["view"]
        # What a reader may do next (steps) is not data for a spreadsheet.
        fields = {name: field for name, field in view.get_serializer().fields.items() if name not in view.csv_exclude}
        labels = {
            name: {value: str(label) for value, label in field.choices.items()}
            for name, field in fields.items() if isinstance(field, serializers.ChoiceField)
        }
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([str(fields[name].label or name) for name in fields])
        for row in rows:
            values = [row.get(name) for name in fields]
            writer.writerow([self.cell(labels.get(name, {}).get(value, value)) for name, value in zip(fields, values)])
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    @staticmethod
    def cell(value):
        if value is None:
            return ""
        if isinstance(value, Decimal):
            return format(value.normalize(), "f")
        return excel_safe(value) if isinstance(value, str) else str(value)
