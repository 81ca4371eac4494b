"""关闭期间 and 提醒消息 in the admin: a reviewer closes and reopens with a reason; each user reads their own inbox."""

from django.urls import reverse

from tracking.models import Message, PeriodClosure

ADD = reverse("admin:tracking_periodclosure_add")


def close_first_quarter(client, region="320600", **extra):
    return client.post(ADD, {"region": region, "start": "2024-01-01", "end": "2024-03-31", "reason": "一季度已通报",
                             "subtree": "on", **extra})


def test_a_city_reviewer_closes_a_quarter_for_the_city_and_its_districts(nantong_reviewer, logged_in):
    response = close_first_quarter(logged_in(nantong_reviewer))
    assert response.status_code == 302
    assert sorted(PeriodClosure.objects.values_list("region_id", "closed_by__username")) == [
        ("320600", "nantong_reviewer"), ("320612", "nantong_reviewer"),
    ]


def test_a_reporter_cannot_close_and_a_reviewer_cannot_close_another_city(
    tongzhou_reporter, zhenjiang_reviewer, logged_in, client
):
    assert close_first_quarter(logged_in(tongzhou_reporter), region="320612").status_code == 403
    response = close_first_quarter(logged_in(zhenjiang_reviewer))
    assert response.status_code == 200 and "320600" not in str(response.context["adminform"].form.fields["region"].queryset.values_list("pk", flat=True))
    assert not PeriodClosure.objects.exists()


def test_reopening_asks_for_a_reason_and_keeps_it(nantong_reviewer, logged_in):
    client = logged_in(nantong_reviewer)
    close_first_quarter(client, subtree="")
    closure = PeriodClosure.objects.get()
    url = reverse("admin:tracking_periodclosure_change", args=[closure.pk])
    refused = client.post(url, {"reopen_reason": "  "})
    assert refused.status_code == 200 and "必须填写理由" in refused.content.decode()
    assert PeriodClosure.objects.get().reopened_at is None
    assert client.post(url, {"reopen_reason": "通州区补报"}).status_code == 302
    closure.refresh_from_db()
    assert (closure.reopened_by, closure.reopen_reason) == (nantong_reviewer, "通州区补报")
    # Reopened: read-only from now on, and never deleted.
    assert client.post(url, {"reopen_reason": "再改"}).status_code == 403
    assert client.post(reverse("admin:tracking_periodclosure_delete", args=[closure.pk]), {"post": "yes"}).status_code == 403


def test_each_user_reads_their_own_inbox_and_the_index_counts_the_unread(
    tongzhou_reporter, nantong_reviewer, logged_in
):
    mine = Message.objects.create(user=tongzhou_reporter, recipient="tz@example.cn", channel="email", key="2024-07-03",
                                  subject="待报送提醒", body="通州区 6月 未报送")
    Message.objects.create(user=nantong_reviewer, recipient="nt@example.cn", channel="email", key="2024-07-03",
                           subject="催办", body="…")
    client = logged_in(tongzhou_reporter)
    assert "1 条未读提醒" in client.get(reverse("admin:index")).content.decode()
    listed = client.get(reverse("admin:tracking_message_changelist")).context["cl"].queryset
    assert list(listed) == [mine]
    assert client.get(reverse("admin:tracking_message_change", args=[mine.pk])).status_code == 200
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert "0 条未读提醒" in client.get(reverse("admin:index")).content.decode()
