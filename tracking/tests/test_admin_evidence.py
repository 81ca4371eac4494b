"""Evidence files: uploaded with a report, served only through the permission-checked view."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tracking.models import EVIDENCE_MAX_BYTES, ProgressReport

from . import evidence_files

pytestmark = pytest.mark.usefixtures("media_root")


def add_report(client, target, evidence):
    return client.post(
        reverse("admin:tracking_progressreport_add"),
        {"target": target.pk, "period_end": "2024-06-30", "value": "10", "qualifier": "exact", "evidence": evidence},
    )


def test_reporter_uploads_evidence_and_a_reviewer_of_the_city_downloads_it(
    songqingliang, tongzhou_reporter, nantong_reviewer, logged_in
):
    add_report(logged_in(tongzhou_reporter), songqingliang, SimpleUploadedFile("现场.pdf", evidence_files.pdf()))
    saved = ProgressReport.objects.get()

    response = logged_in(nantong_reviewer).get(reverse("admin:tracking_progressreport_evidence", args=[saved.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == evidence_files.pdf()
    assert response["Content-Type"] == "application/pdf"


def test_evidence_of_another_type_is_refused(songqingliang, tongzhou_reporter, logged_in):
    response = add_report(logged_in(tongzhou_reporter), songqingliang, SimpleUploadedFile("run.exe", b"MZ"))

    assert response.status_code == 200
    assert "evidence" in response.context["adminform"].form.errors
    assert not ProgressReport.objects.exists()


def test_evidence_over_ten_megabytes_is_refused(songqingliang, tongzhou_reporter, logged_in):
    big = SimpleUploadedFile("big.pdf", b"0" * (EVIDENCE_MAX_BYTES + 1))

    response = add_report(logged_in(tongzhou_reporter), songqingliang, big)

    assert "不能超过 10 MB" in str(response.context["adminform"].form.errors["evidence"])
    assert not ProgressReport.objects.exists()


def test_report_without_evidence_has_no_evidence_page(songqingliang, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)
    add_report(client, songqingliang, "")

    response = client.get(reverse("admin:tracking_progressreport_evidence", args=[ProgressReport.objects.get().pk]))

    assert response.status_code == 404
