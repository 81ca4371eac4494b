"""Issue 14, defect 11: evidence is checked by its content, and served so that it cannot run in the admin."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tracking.models import ProgressReport

from . import evidence_files

pytestmark = pytest.mark.usefixtures("media_root")

HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"


def add_report(client, target, name, content):
    return client.post(
        reverse("admin:tracking_progressreport_add"),
        {"target": target.pk, "period_end": "2024-06-30", "value": "10", "qualifier": "exact",
         "evidence": SimpleUploadedFile(name, content)},
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("现场.pdf", HTML),
        ("photo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("polyglot.pdf", b"%PDF-1.4\n" + HTML + evidence_files.pdf()[9:]),
        ("appended.pdf", evidence_files.pdf() + HTML),
        ("photo.png", evidence_files.png(extra=HTML)),
        ("photo.png", evidence_files.jpeg()),
        ("photo.jpg", evidence_files.png()),
        ("broken.png", evidence_files.png()[:30]),
        ("broken.jpg", b"\xff\xd8\xff\xe0 not a jpeg"),
        ("truncated.pdf", evidence_files.pdf()[:60]),
    ],
    ids=["HTML as .pdf", "SVG as .png", "PDF/HTML polyglot", "HTML after %%EOF", "HTML after IEND",
         "JPEG as .png", "PNG as .jpg", "cut PNG", "not a JPEG", "cut PDF"],
)
def test_evidence_that_is_not_what_its_name_says_is_refused(songqingliang, tongzhou_reporter, logged_in, media_root,
                                                            name, content):
    response = add_report(logged_in(tongzhou_reporter), songqingliang, name, content)

    assert response.status_code == 200
    errors = str(response.context["adminform"].form.errors["evidence"])
    assert "附件内容与扩展名不符" in errors or "无法作为" in errors
    assert not ProgressReport.objects.exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("name", "content", "content_type", "inline"),
    [
        ("现场.png", evidence_files.png(), "image/png", True),
        ("现场.jpg", evidence_files.jpeg(), "image/jpeg", True),
        ("现场.pdf", evidence_files.pdf(), "application/pdf", False),
    ],
)
def test_real_evidence_is_kept_and_served_in_a_sandbox(songqingliang, tongzhou_reporter, logged_in,
                                                       name, content, content_type, inline):
    client = logged_in(tongzhou_reporter)
    add_report(client, songqingliang, name, content)
    saved = ProgressReport.objects.get()

    response = client.get(reverse("admin:tracking_progressreport_evidence", args=[saved.pk]))

    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert response["Content-Disposition"].startswith("inline" if inline else "attachment")
