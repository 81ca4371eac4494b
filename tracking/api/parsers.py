"""The API's JSON parser."""

import json

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, with its errors in Chinese, and a body nested too deep a 400 rather than a 500.

    DRF's own message embeds the decoder's English text; Python's decoder
    raises RecursionError, which DRF does not catch, on a body nested a few
    thousand levels deep. (REST_FRAMEWORK names this module, which DRF
    imports while it reads its settings: it imports nothing of the API's.)
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except ParseError as error:
            cause = error.__context__
            if isinstance(cause, json.JSONDecodeError):
                message = _("请求体不是有效的 JSON（第 %(line)d 行第 %(column)d 列）") % {
                    "line": cause.lineno, "column": cause.colno,
                }
            else:
                message = _("请求体不是有效的 JSON（不接受 NaN、Infinity 等非标准数值）")
            raise ParseError(message) from None
        except RecursionError:
            raise ParseError(_("请求体的 JSON 嵌套层数过多")) from None
        if not encodable(data):
            # "\ud800" is valid JSON but no character: echoed back in an error it cannot be
            # encoded, and PostgreSQL refuses it. The message does not quote the input.
            raise ParseError(_("请求体含有无效的 Unicode 字符（不成对的代理项），请检查文本"))
        return data


def encodable(data):
    """Whether every string (keys too) in parsed JSON is valid Unicode, without lone surrogates."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return False
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return True
