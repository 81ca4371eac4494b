"""Reminders and escalation (催办): who is told what today, as one digest per recipient and channel.

For each annual plan's reporting period that its region has not yet
reported (tracking.followup.selectors: no submitted or approved report):

- due_soon: from TRACKING_REMIND_DAYS_BEFORE days before the due date until
  the day before it, to the region's reporters;
- due_today and overdue: from the due date on, to its reporters and managers;
- escalated: from TRACKING_ESCALATE_AFTER_DAYS days after the due date on,
  to the reviewers of the region above as well (the city's, for a district).

A period is chased for CHASE_DAYS after its due date at most, and not once it
is closed (tracking.followup.closing). Progress alerts (tracking.progress's
status, nothing else): a target that was on track or not started yesterday
and is behind today, or that was behind on the first and on the last day of a
reporting period that ended yesterday, goes to its region's managers and the
reviewers above.

compose() only reads; store() writes one Message per recipient, channel and
day (the day's date is its key) with INSERT … ON CONFLICT DO NOTHING, so a
second run, or two at once, store each digest once. deliver() sends what is
not sent yet, each row locked (skipping rows another run holds), so nothing
goes out twice; a failure is recorded and tried again by the next run.
"""

import datetime
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Membership, Message, Programme, Region, Target
from . import closing, selectors
from .calendar import programme_periods

Role = Membership.Role
CHASE_DAYS = 92
# After this many failed attempts a message is left alone (shown as failed in the inbox).
MAX_ATTEMPTS = 5
UNREPORTED = (selectors.MISSING, selectors.DRAFT_ONLY, selectors.RETURNED, selectors.NOT_DUE)


@dataclass
class Digest:
    """One recipient's events of the day on one channel."""

    recipient: str
    channel: str
    user_id: int | None = None
    region_id: str | None = None
    events: list = field(default_factory=list)


def calendar_events(*, today, programmes=None):
    """(event, region) for every unreported period to chase today; one query for the reports, one for closures."""
    if programmes is None:
        programmes = Programme.objects.filter(kind=Programme.Kind.ANNUAL_PLAN, year__in=[today.year - 1, today.year])
    programmes = programmes.select_related("region__parent")
    states = selectors.unit_states(programmes, as_of=today)
    before = settings.TRACKING_REMIND_DAYS_BEFORE
    escalate = settings.TRACKING_ESCALATE_AFTER_DAYS
    candidates = []
    for programme, periods in states.items():
        for period, state in periods:
            if state not in UNREPORTED:
                continue
            days = (today - period.due).days
            if state == selectors.NOT_DUE and days < 0:
                if -days > before:
                    continue
                kind = "due_soon"
            elif days == 0:
                kind = "due_today"
            elif 0 < days <= CHASE_DAYS:
                kind = "escalated" if days >= escalate else "overdue"
            else:
                continue
            candidates.append((programme, period, state, kind, days))
    closed = closing.closed_rows(
        [(programme.region_id, period.end, programme) for programme, period, *_rest in candidates], today=today
    )
    events = []
    for index, (programme, period, state, kind, days) in enumerate(candidates):
        if index in closed:
            continue
        region = programme.region
        events.append(({
            "kind": kind, "region": region.pk, "region_name": region.name, "programme": programme.pk,
            "period": period.key, "period_label": str(period.label), "due": period.due.isoformat(), "days": days,
            "state": state,
        }, region))
    return events


def progress_events(*, today, programmes=None):
    """(event, region) for targets that fell behind since yesterday, or stayed behind through a period that just ended."""
    if programmes is None:
        programmes = Programme.objects.filter(kind=Programme.Kind.ANNUAL_PLAN, year=today.year)
    yesterday = today - datetime.timedelta(days=1)
    targets = Target.objects.filter(programme__in=programmes)
    now = {
        row["pk"]: row for row in targets.with_progress(as_of=today).values(
            "pk", "code", "name", "status", "programme_id", "programme__region_id", "programme__region__name",
            "programme__region__parent_id", "programme__period_start", "programme__period_end",
            "programme__reporting_frequency", "programme__due_days",
        ) if row["status"] == Target.Status.BEHIND
    }
    if not now:
        return []
    before = dict(targets.filter(pk__any=list(now)).with_progress(as_of=yesterday).values_list("pk", "status"))
    # A period that ended yesterday, per calendar: was the target already behind on its first day?
    ended = {}
    for row in now.values():
        rule = SimpleNamespace(
            period_start=row["programme__period_start"], period_end=row["programme__period_end"],
            reporting_frequency=row["programme__reporting_frequency"], due_days=row["programme__due_days"],
        )
        for period in programme_periods(rule):
            if period.end == yesterday:
                ended.setdefault(period.start, []).append(row["pk"])
    behind_since = {}
    for start, ids in ended.items():
        behind_since.update(
            (pk, status) for pk, status in targets.filter(pk__any=ids).with_progress(as_of=start).values_list("pk", "status")
        )
    events = []
    regions = {}
    for pk, row in now.items():
        if before.get(pk) in (Target.Status.ON_TRACK, Target.Status.NOT_STARTED):
            kind = "fell_behind"
        elif behind_since.get(pk) == Target.Status.BEHIND and before.get(pk) == Target.Status.BEHIND:
            kind = "stayed_behind"
        else:
            continue
        region = regions.setdefault(row["programme__region_id"], Region(
            code=row["programme__region_id"], name=row["programme__region__name"],
            parent_id=row["programme__region__parent_id"],
        ))
        events.append(({
            "kind": kind, "region": region.pk, "region_name": region.name, "programme": row["programme_id"],
            "target": pk, "code": row["code"], "target_name": row["name"],
        }, region))
    return events


# Who hears of each kind of event: roles in the event's own region, and whether the reviewers above hear too.
AUDIENCE = {
    "due_soon": ((Role.REPORTER,), False),
    "due_today": ((Role.REPORTER, Role.MANAGER), False),
    "overdue": ((Role.REPORTER, Role.MANAGER), False),
    "escalated": ((Role.REPORTER, Role.MANAGER), True),
    "fell_behind": ((Role.MANAGER,), True),
    "stayed_behind": ((Role.MANAGER,), True),
}


def compose(*, today, programmes=None, with_progress=True):
    """Today's digests: one per person (email, or the inbox alone without an address) and one per region's group robot."""
    events = calendar_events(today=today, programmes=programmes)
    if with_progress:
        events += progress_events(today=today, programmes=programmes)
    if not events:
        return []
    codes = {region.pk for _event, region in events} | {region.parent_id for _e, region in events if region.parent_id}
    members = {}
    for membership in Membership.objects.filter(region__in=codes, user__is_active=True).select_related("user"):
        members.setdefault((membership.region_id, membership.role), []).append(membership.user)
    robots = {
        region.pk: region for region in Region.objects.filter(code__in=codes).exclude(webhook_url="")
        .only("code", "webhook_kind", "webhook_url")
    }
    digests = {}

    def add(recipient, channel, event, **who):
        digest = digests.get((recipient, channel))
        if digest is None:
            digest = digests[(recipient, channel)] = Digest(recipient=recipient, channel=channel, **who)
        digest.events.append(event)

    for event, region in events:
        roles, above = AUDIENCE[event["kind"]]
        people = [user for role in roles for user in members.get((region.pk, role), [])]
        if above and region.parent_id:
            people += members.get((region.parent_id, Role.REVIEWER), [])
        for user in people:
            channel = Message.Channel.EMAIL if user.email else Message.Channel.INBOX
            add(f"user:{user.pk}", channel, event, user_id=user.pk)
        # The region's group chat hears of its own periods; the one above, of escalations.
        groups = [region.pk] + ([region.parent_id] if above and region.parent_id else [])
        for code in groups:
            robot = robots.get(code)
            if robot is not None and robot.webhook_kind:
                add(f"region:{code}", robot.webhook_kind, event, region_id=code)
    return sorted(digests.values(), key=lambda d: (d.recipient, d.channel))


SUBJECTS = {
    "due_soon": _("即将到期"), "due_today": _("今日到期"), "overdue": _("已逾期"), "escalated": _("逾期催办"),
    "fell_behind": _("进度转为滞后"), "stayed_behind": _("整期滞后"),
}


def describe(event):
    """One line of a digest, in Chinese."""
    kind = event["kind"]
    if kind in ("fell_behind", "stayed_behind"):
        return _("%(region)s：指标 %(code)s %(name)s %(what)s") % {
            "region": event["region_name"], "code": event["code"], "name": event["target_name"], "what": SUBJECTS[kind],
        }
    if kind == "due_soon":
        when = _("%(due)s 到期，还有 %(days)d 天") % {"due": event["due"], "days": -event["days"]}
    elif kind == "due_today":
        when = _("今天（%(due)s）到期") % {"due": event["due"]}
    else:
        when = _("%(due)s 到期，已逾期 %(days)d 天") % {"due": event["due"], "days": event["days"]}
    return _("%(region)s：%(period)s 的进度尚未报送（%(state)s），%(when)s") % {
        "region": event["region_name"], "period": event["period_label"],
        "state": selectors.STATES[event["state"]], "when": when,
    }


def render(digest, today):
    kinds = []
    for event in digest.events:
        if event["kind"] not in kinds:
            kinds.append(event["kind"])
    subject = _("【职工实事跟踪】%(day)s 提醒：%(kinds)s") % {
        "day": today.isoformat(), "kinds": "、".join(str(SUBJECTS[k]) for k in kinds),
    }
    lines = [describe(event) for event in digest.events]
    return subject, "\n".join(lines)


def store(digests, *, today):
    """One Message per digest, keyed by the day: a digest already stored (an earlier or concurrent run) is kept."""
    key = today.isoformat()
    rows = []
    for digest in digests:
        subject, body = render(digest, today)
        rows.append(Message(
            user_id=digest.user_id, region_id=digest.region_id, recipient=digest.recipient, channel=digest.channel,
            key=key, subject=subject[:200], body=body, events=digest.events,
            result=Message.Result.SENT if digest.channel == Message.Channel.INBOX else Message.Result.PENDING,
            sent_at=timezone.now() if digest.channel == Message.Channel.INBOX else None,
        ))
    # ON CONFLICT DO NOTHING on the (recipient, channel, key) constraint.
    Message.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def deliver(*, send=None):
    """Send every stored message not sent yet (this run's, and earlier failures); returns (sent, failed).

    Each message is locked while it is sent, and rows another run holds are
    skipped, so two runs at once never send the same message twice.
    """
    from . import channels

    send = send or channels.send
    sent = failed = 0
    pending = list(
        Message.objects.exclude(result=Message.Result.SENT).filter(attempts__lt=MAX_ATTEMPTS)
        .order_by("pk").values_list("pk", flat=True)
    )
    with channels.session() as session:
        for pk in pending:
            with transaction.atomic():
                message = (
                    Message.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("user", "region").exclude(result=Message.Result.SENT).filter(pk=pk).first()
                )
                if message is None:
                    continue
                error = send(message, session)
                message.attempts += 1
                if error:
                    message.result, message.error = Message.Result.FAILED, error[:2000]
                    failed += 1
                else:
                    message.result, message.error, message.sent_at = Message.Result.SENT, "", timezone.now()
                    sent += 1
                message.save(update_fields=["attempts", "result", "error", "sent_at"])
    return sent, failed


def run(*, today, programmes=None):
    """What `manage.py send_reminders` does: compose, store, deliver. Returns counts."""
    digests = compose(today=today, programmes=programmes)
    stored = store(digests, today=today)
    sent, failed = deliver()
    return {"digests": stored, "sent": sent, "failed": failed}
