"""An uploaded report as text: UTF-8 or GB18030, not a binary file, not too large."""

from django.utils.translation import gettext as _

# A report is tens of kilobytes; a few megabytes is already something else.
MAX_BYTES = 2 * 1024 * 1024


class UnreadableFile(ValueError):
    """The upload is not a text file we can read; the message says why, in Chinese."""


def read_text_file(upload):
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise UnreadableFile(_("文件过大（上限 %(mb)d MB），请只上传报告正文") % {"mb": MAX_BYTES // (1024 * 1024)})
    if not data.strip():
        raise UnreadableFile(_("文件为空"))
    if b"\x00" in data[:8192]:
        raise UnreadableFile(_("文件不是文本（可能是 Word、PDF 或图片），请另存为 .txt 文本后上传"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("无法识别文件编码，请另存为 UTF-8 或 GB18030 编码的 .txt 文本"))
