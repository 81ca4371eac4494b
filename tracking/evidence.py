"""Evidence files: what an upload must be, by its content and not only its name.

The extension says which of PDF, JPEG or PNG a file claims to be; the bytes
must be that (the signature), open as that (the structure a reader walks:
PNG chunks with their checksums up to IEND, JPEG's start, frame and end
markers, a PDF's header, objects and %%EOF), and carry no HTML where a
browser would sniff it. HTML saved as .pdf, SVG saved as .png and PDF/HTML
polyglots are refused. What passes is served by evidence_response(), to
a report's readers in the admin and, once a reviewer has published it, on
the 公示 pages (tracking.public.views.evidence).
"""

import os
import struct
import zlib

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
PDF_SIGNATURE = b"%PDF-"
# Extension → the kind its content must be.
KINDS = {"pdf": "pdf", "png": "png", "jpg": "jpeg", "jpeg": "jpeg"}
# Markup a browser's sniffer or an HTML parser would act on.
HTML_MARKERS = (b"<html", b"<script", b"<body", b"<!doctype", b"<svg", b"<iframe", b"<head", b"<?xml")
# How far from each end of a PDF to look for markup (browsers sniff the first 512 bytes; polyglots put
# their HTML next to the header or after %%EOF). A PDF's compressed streams in between are binary.
PDF_SCAN = 4096


def validate_evidence_content(file):
    """A new upload's bytes are the PDF, JPEG or PNG its name says; ValidationError otherwise."""
    if getattr(file, "_committed", False):
        return
    kind = KINDS.get(os.path.splitext(file.name or "")[1].lower().lstrip("."))
    if kind is None:
        return  # FileExtensionValidator answers for the name
    from .models import EVIDENCE_MAX_BYTES

    if file.size > EVIDENCE_MAX_BYTES:
        return  # validate_evidence_size answers for the size
    file.seek(0)
    data = file.read()
    file.seek(0)
    found = sniff(data)
    if found != kind:
        raise ValidationError(
            _("附件内容与扩展名不符：“%(name)s”不是真正的 %(kind)s 文件"),
            params={"name": os.path.basename(file.name)[:60], "kind": kind.upper()},
        )
    if not OPENS[kind](data):
        raise ValidationError(
            _("附件无法作为 %(kind)s 文件打开（文件已损坏，或混有网页代码）"), params={"kind": kind.upper()}
        )


def evidence_response(report, *, name=None):
    """The report's evidence file as a response that runs nothing wherever it is opened; 404 without one.

    name: the file name to offer instead of the uploaded one (the public pages
    offer a neutral one: an uploaded name may carry people's names).
    """
    if not report.evidence:
        raise Http404
    try:
        file = report.evidence.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    extension = os.path.splitext(report.evidence.name)[1].lower()
    name = name + extension if name else os.path.basename(report.evidence.name)
    # Only images (checked on upload to be what their name says) are shown in
    # the browser. PDFs, which can carry scripts and forms, and anything that
    # reached the storage some other way are downloaded, never rendered.
    extension = os.path.splitext(name)[1].lower().lstrip(".")
    inline = extension in KINDS and extension != "pdf"
    response = FileResponse(file, filename=name, as_attachment=not inline)
    # Whatever the file holds, it runs nothing in this origin, and is not sniffed as HTML.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def sniff(data):
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(JPEG_SIGNATURE):
        return "jpeg"
    if data.startswith(PDF_SIGNATURE):
        return "pdf"
    return None


def png_opens(data):
    """Every chunk whole with a right checksum, IHDR first, IEND last and nothing after it."""
    position, first = len(PNG_SIGNATURE), True
    while position + 12 <= len(data):
        length, chunk = struct.unpack(">I4s", data[position:position + 8])
        end = position + 12 + length
        if end > len(data):
            return False
        body = data[position + 8:end - 4]
        if zlib.crc32(chunk + body) != struct.unpack(">I", data[end - 4:end])[0]:
            return False
        if first and chunk != b"IHDR":
            return False
        first = False
        if chunk == b"IEND":
            return end == len(data)
        position = end
    return False


def jpeg_opens(data):
    """Start of image, a frame header (baseline or progressive) and an end of image after it."""
    frame = max(data.find(b"\xff\xc0"), data.find(b"\xff\xc1"), data.find(b"\xff\xc2"))
    return frame > 0 and data.rfind(b"\xff\xd9") > frame


def pdf_opens(data):
    """A version in the header, at least one object, %%EOF near the end, and no HTML at either end."""
    if not data[5:8].replace(b".", b"").isdigit() or b" obj" not in data:
        return False
    if b"%%EOF" not in data[-1024:]:
        return False
    ends = (data[:PDF_SCAN] + data[-PDF_SCAN:]).lower()
    return not any(marker in ends for marker in HTML_MARKERS)


OPENS = {"png": png_opens, "jpeg": jpeg_opens, "pdf": pdf_opens}
