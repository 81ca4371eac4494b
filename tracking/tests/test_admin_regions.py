"""A region's group-robot signing secret in the admin: never shown, kept when left empty, replaced, or cleared."""

import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from tracking.models import Region

SECRET = "SEC0123456789abcdef"
CHANGE = reverse("admin:tracking_region_change", args=["320612"])


@pytest.fixture
def tongzhou_robot(regions):
    Region.objects.filter(pk="320612").update(
        webhook_kind="dingtalk", webhook_url="https://oapi.dingtalk.com/robot/send?access_token=T", webhook_secret=SECRET,
    )


def form_data(**changes):
    tongzhou = Region.objects.get(pk="320612")
    return {
        "code": tongzhou.code, "name": tongzhou.name, "union_name": tongzhou.union_name, "level": tongzhou.level,
        "parent": tongzhou.parent_id, "valid_from": "", "valid_to": "", "webhook_kind": tongzhou.webhook_kind,
        "webhook_url": tongzhou.webhook_url, "webhook_secret": "", **changes,
    }


def stored_secret():
    return Region.objects.get(pk="320612").webhook_secret


def test_the_change_page_says_a_secret_is_set_without_showing_it(tongzhou_robot, superuser, logged_in):
    page = logged_in(superuser).get(CHANGE)
    assert page.status_code == 200
    assert SECRET not in page.content.decode()
    assert "已保存一个密钥（不显示）" in page.content.decode() and "清除加签密钥" in page.content.decode()


def test_an_empty_field_keeps_the_secret_and_records_no_change_to_it(tongzhou_robot, superuser, logged_in):
    response = logged_in(superuser).post(CHANGE, form_data(name="通州区"))
    assert response.status_code == 302
    assert stored_secret() == SECRET
    assert "加签密钥" not in LogEntry.objects.get().get_change_message()


def test_a_typed_secret_replaces_it(tongzhou_robot, superuser, logged_in):
    assert logged_in(superuser).post(CHANGE, form_data(webhook_secret="SECnew")).status_code == 302
    assert stored_secret() == "SECnew"


def test_clearing_removes_the_secret_and_logs_neither_value(tongzhou_robot, superuser, logged_in, caplog):
    with caplog.at_level(logging.DEBUG):
        response = logged_in(superuser).post(CHANGE, form_data(clear_webhook_secret="on"))
    assert response.status_code == 302
    assert stored_secret() == ""
    assert SECRET not in caplog.text and SECRET not in LogEntry.objects.get().change_message


def test_a_new_secret_and_clearing_at_once_is_refused_and_changes_nothing(tongzhou_robot, superuser, logged_in):
    response = logged_in(superuser).post(CHANGE, form_data(webhook_secret="SECnew", clear_webhook_secret="on"))
    assert response.status_code == 200
    assert "请只做其中一项" in response.content.decode()
    assert "SECnew" not in response.content.decode()
    assert stored_secret() == SECRET
