"""公示 of evidence: private unless a reviewer publishes an approved report's, and private again once reopened."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from tracking.models import ProgressReport
from tracking.services import publish_evidence, return_report
from tracking.workflow import WorkflowConflict

from . import evidence_files
from .conftest import report

D = datetime.date
S = ProgressReport.Status


@pytest.fixture
def published(settings):
    settings.TRACKING_PUBLIC_READ = True


@pytest.fixture(autouse=True)
def no_kept_bodies():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def photographed(songqingliang, media_root):
    """Tongzhou's 送清凉 figure for June, approved, with a photo of the day."""
    photo = SimpleUploadedFile("送清凉现场.png", evidence_files.png(), content_type="image/png")
    return report(songqingliang, D(2024, 6, 30), 6000, status=S.APPROVED, evidence=photo)


def publish_in_the_admin(client, photographed, step="publish"):
    return client.post(reverse("admin:tracking_progressreport_workflow", args=[photographed.pk]), {"step": step})


def test_a_reviewer_publishes_a_photo_and_workers_see_and_open_it(
    client, logged_in, published, photographed, nantong_reviewer
):
    page = logged_in(nantong_reviewer).get(reverse("admin:tracking_progressreport_change", args=[photographed.pk]))
    assert "在公示页面公开佐证材料" in page.content.decode()

    response = publish_in_the_admin(client, photographed)

    assert response.status_code == 302
    photographed.refresh_from_db()
    assert photographed.evidence_public is True
    client.logout()
    link = reverse("public:evidence", args=[photographed.pk])
    assert f'href="{link}"' in client.get("/gongshi/320612/").content.decode()
    target = client.get("/api/v1/public/regions/320612/").json()["programmes"][0]["items"][0]["targets"][0]
    assert target["evidence"] == [{"period_end": "2024-06-30", "url": link}]
    photo = client.get(link)
    assert photo.status_code == 200
    assert b"".join(photo.streaming_content) == evidence_files.png()
    assert photo["Content-Security-Policy"].startswith("sandbox")
    assert photo["X-Content-Type-Options"] == "nosniff"
    assert "public" in photo["Cache-Control"]


def test_unpublished_evidence_is_not_linked_and_its_address_is_not_found(client, published, photographed):
    assert "佐证材料" not in client.get("/gongshi/320612/").content.decode()
    assert client.get(reverse("public:evidence", args=[photographed.pk])).status_code == 404
    assert client.get(reverse("public:evidence", args=[999999])).status_code == 404


def test_nothing_is_served_while_the_tracker_does_not_publish(client, settings, photographed, nantong_reviewer):
    settings.TRACKING_PUBLIC_READ = False
    publish_evidence(user=nantong_reviewer, report=photographed, public=True)

    assert client.get(reverse("public:evidence", args=[photographed.pk])).status_code == 404


def test_a_reporter_cannot_publish_and_nothing_changes(client, logged_in, published, photographed, tongzhou_reporter):
    logged_in(tongzhou_reporter)

    response = publish_in_the_admin(client, photographed)

    assert response.status_code == 302
    assert "只有审核员可以公开佐证材料" in client.get(response.url).content.decode()
    photographed.refresh_from_db()
    assert photographed.evidence_public is False
    with pytest.raises(PermissionDenied):
        publish_evidence(user=tongzhou_reporter, report=photographed, public=True)


def test_a_figure_without_evidence_or_not_yet_approved_cannot_publish(songqingliang, nantong_reviewer, media_root):
    bare = report(songqingliang, D(2024, 5, 31), 3000, status=S.APPROVED)
    pending = report(songqingliang, D(2024, 7, 31), 7000, status=S.SUBMITTED,
                     evidence=SimpleUploadedFile("七月.png", evidence_files.png()))

    with pytest.raises(WorkflowConflict, match="没有佐证材料"):
        publish_evidence(user=nantong_reviewer, report=bare, public=True)
    with pytest.raises(WorkflowConflict, match="只有已通过的填报可以公开"):
        publish_evidence(user=nantong_reviewer, report=pending, public=True)

    assert list(ProgressReport.objects.filter(evidence_public=True)) == []


def test_reopening_a_figure_takes_its_evidence_off_the_public_page(client, published, photographed, nantong_reviewer):
    publish_evidence(user=nantong_reviewer, report=photographed, public=True)

    return_report(user=nantong_reviewer, report=photographed, note="照片与活动不符")

    photographed.refresh_from_db()
    assert (photographed.status, photographed.evidence_public) == (S.RETURNED, False)
    assert client.get(reverse("public:evidence", args=[photographed.pk])).status_code == 404


def test_a_reviewer_withdraws_published_evidence(client, logged_in, published, photographed, nantong_reviewer):
    publish_evidence(user=nantong_reviewer, report=photographed, public=True)
    logged_in(nantong_reviewer)

    publish_in_the_admin(client, photographed, step="unpublish")

    photographed.refresh_from_db()
    assert photographed.evidence_public is False
    assert photographed.history.first().evidence_public is False
    assert photographed.history.all()[1].evidence_public is True


def test_the_database_refuses_public_evidence_on_a_figure_that_does_not_count(songqingliang, media_root):
    draft = report(songqingliang, D(2024, 7, 31), 7000, status=S.DRAFT,
                   evidence=SimpleUploadedFile("七月.png", evidence_files.png()))

    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressReport.objects.filter(pk=draft.pk).update(evidence_public=True)


def test_publishing_changes_the_page_a_proxy_revalidates(client, published, photographed, nantong_reviewer):
    before = client.get("/gongshi/320612/")
    link = reverse("public:evidence", args=[photographed.pk])

    publish_evidence(user=nantong_reviewer, report=photographed, public=True)
    after = client.get("/gongshi/320612/", HTTP_IF_NONE_MATCH=before["ETag"])
    publish_evidence(user=nantong_reviewer, report=photographed, public=False)
    withdrawn = client.get("/gongshi/320612/", HTTP_IF_NONE_MATCH=after["ETag"])

    assert after.status_code == 200 and link in after.content.decode()
    assert withdrawn.status_code == 200 and link not in withdrawn.content.decode()


def test_the_public_file_has_a_neutral_name(client, published, photographed, nantong_reviewer):
    publish_evidence(user=nantong_reviewer, report=photographed, public=True)

    photo = client.get(reverse("public:evidence", args=[photographed.pk]))

    assert f'filename="evidence-{photographed.pk}.png"' in photo["Content-Disposition"]
    assert "送清凉" not in photo["Content-Disposition"]


def test_another_districts_reviewer_cannot_publish(published, photographed, zhenjiang_reviewer):
    with pytest.raises(PermissionDenied):
        publish_evidence(user=zhenjiang_reviewer, report=photographed, public=True)

    photographed.refresh_from_db()
    assert photographed.evidence_public is False


def test_the_history_names_the_publication_in_chinese(client, logged_in, published, photographed, nantong_reviewer):
    publish_evidence(user=nantong_reviewer, report=photographed, public=True)

    page = logged_in(nantong_reviewer).get(
        reverse("admin:tracking_progressreport_history", args=[photographed.pk])
    ).content.decode()

    assert "公开佐证材料" in page
    assert "False" not in page and "True" not in page
