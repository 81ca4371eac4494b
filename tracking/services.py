"""Writes that involve more than one row: the review workflow.

The admin and the API both call these, so the rules below are written once.
Each function locks the report row (select_for_update), so two reviewers
acting on the same report at the same moment are serialised and the second
one sees the first one's result instead of counting twice.
"""

import math

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Membership, ProgrammeTally, ProgressReport, Region, Target, lock, progress_expressions, role_of

# What a tally holds besides completion_sum (a float sum, compared within rounding).
TALLY_COUNTS = [name for name in ProgrammeTally.FIGURES if name not in ("completion_sum", "counted_on")]

Status = ProgressReport.Status
ENTRY_ROLES = (Membership.Role.REPORTER, Membership.Role.MANAGER)


class WorkflowConflict(Exception):
    """The report is not in a state that allows this step (HTTP 409)."""


def can_enter(user, target):
    """May this user add or change reports for this target?"""
    if not (user.is_superuser or role_of(user) in ENTRY_ROLES):
        return False
    return Region.objects.visible_to(user).filter(pk=target.programme.region_id).exists()


def can_review(user, target):
    if not (user.is_superuser or role_of(user) == Membership.Role.REVIEWER):
        return False
    return Region.objects.visible_to(user).filter(pk=target.programme.region_id).exists()


def _locked(report):
    # The target first, then the report: the order imports lock them in
    # (importing.py locks targets, then updates their reports). Locking the
    # report first, as the joined query below alone would, deadlocks against
    # an import of the same report. A report's target never changes.
    lock(Target.objects.filter(pk=report.target_id))
    # Only the report row (of=self): the joined programme row, locked too by
    # default, would make a new tally's insert (whose foreign key check
    # needs that row) and this transaction's own recount wait for each other.
    return ProgressReport.objects.select_for_update(of=("self",)).select_related("target__programme").get(pk=report.pk)


def _save(report, user):
    report.full_clean()
    report._history_user = user
    report.save()


@transaction.atomic
def create_report(*, user, target, period_end, value, qualifier=ProgressReport.Qualifier.EXACT, note="", evidence=None):
    if not can_enter(user, target):
        raise PermissionDenied(_("您无权为该指标填报"))
    # Serialises creations for one target, so that full_clean() below sees a
    # report for the same date created at the same moment (a double click, an
    # import) and refuses it, instead of the insert failing on the unique
    # constraint; and takes the target before the report, as _locked() does.
    lock(Target.objects.filter(pk=target.pk))
    report = ProgressReport(
        target=target,
        period_end=period_end,
        value=value,
        qualifier=qualifier,
        note=note,
        created_by=user,
        status=Status.DRAFT,
    )
    if evidence:
        report.evidence = evidence
    _save(report, user)
    return report


@transaction.atomic
def update_report(*, user, report, **fields):
    report = _locked(report)
    if not can_enter(user, report.target):
        raise PermissionDenied(_("您无权修改该填报"))
    if not report.is_editable:
        raise WorkflowConflict(_("只有草稿或已退回的填报可以修改"))
    for name, value in fields.items():
        setattr(report, name, value)
    _save(report, user)
    return report


@transaction.atomic
def delete_report(*, user, report):
    report = _locked(report)
    if not can_enter(user, report.target):
        raise PermissionDenied(_("您无权删除该填报"))
    if not report.is_editable:
        raise WorkflowConflict(_("只有草稿或已退回的填报可以删除"))
    report._history_user = user
    report.delete()


@transaction.atomic
def submit_report(*, user, report):
    report = _locked(report)
    if not can_enter(user, report.target):
        raise PermissionDenied(_("您无权提交该填报"))
    if not report.is_editable:
        raise WorkflowConflict(_("只有草稿或已退回的填报可以提交审核"))
    report.status = Status.SUBMITTED
    _save(report, user)
    return report


@transaction.atomic
def approve_report(*, user, report, note=""):
    report = _locked(report)
    if not can_review(user, report.target):
        raise PermissionDenied(_("只有审核员可以审核通过"))
    # Superusers may approve a draft directly; reviewers only what was submitted.
    allowed = (Status.SUBMITTED, Status.DRAFT, Status.RETURNED) if user.is_superuser else (Status.SUBMITTED,)
    if report.status not in allowed:
        raise WorkflowConflict(_("该填报当前状态为“%(status)s”，不能审核通过") % {"status": report.get_status_display()})
    report.status = Status.APPROVED
    report.reviewed_by = user
    report.reviewed_at = timezone.now()
    report.review_note = note
    _save(report, user)
    return report


@transaction.atomic
def return_report(*, user, report, note):
    """Send a submitted report back, or reopen an approved one. Needs a note."""
    if not (note or "").strip():
        raise ValidationError({"review_note": _("退回时必须填写审核意见")})
    report = _locked(report)
    if not can_review(user, report.target):
        raise PermissionDenied(_("只有审核员可以退回"))
    if report.status not in (Status.SUBMITTED, Status.APPROVED):
        raise WorkflowConflict(_("该填报当前状态为“%(status)s”，不能退回") % {"status": report.get_status_display()})
    report.status = Status.RETURNED
    report.reviewed_by = user
    report.reviewed_at = timezone.now()
    report.review_note = note
    _save(report, user)
    return report


def stale_targets():
    """Ids of targets whose stored totals differ from a from-scratch computation."""
    names = list(progress_expressions())
    rows = Target.objects.annotate(**{f"fresh_{name}": expr for name, expr in progress_expressions().items()})
    rows = rows.values("pk", *[f"cached_{name}" for name in names], *[f"fresh_{name}" for name in names])
    return [row["pk"] for row in rows.iterator() if any(row[f"cached_{n}"] != row[f"fresh_{n}"] for n in names)]


def repair_progress():
    """Recompute the stored totals that are wrong; returns the ids that were."""
    stale = stale_targets()
    Target.objects.filter(pk__any=stale).refresh_progress()
    return stale


def wrong_tallies(batch_size=2000):
    """Programmes whose tally claims to hold today but differs from a count of their targets now."""
    wrong = []
    current = list(ProgrammeTally.objects.current().order_by("pk"))
    for start in range(0, len(current), batch_size):
        stored = current[start:start + batch_size]
        counted = {tally.pk: tally for tally in ProgrammeTally.counted([tally.pk for tally in stored])}
        for tally in stored:
            fresh = counted[tally.pk]
            if not math.isclose(tally.completion_sum, fresh.completion_sum, rel_tol=1e-9, abs_tol=1e-6) or any(
                getattr(tally, name) != getattr(fresh, name) for name in TALLY_COUNTS
            ):
                wrong.append(tally.pk)
    return wrong


def repair_tallies():
    """Recount the wrong tallies, the ones that no longer hold today, and create missing ones.

    Returns the wrong ones, then how many were recounted or created in all.
    """
    wrong = wrong_tallies()
    return wrong, ProgrammeTally.recount(wrong) + sum(ProgrammeTally.objects.catch_up())


# Group names created by migration 0002, one per role.
ROLE_GROUPS = {
    Membership.Role.REPORTER: "填报员",
    Membership.Role.MANAGER: "管理员",
    Membership.Role.REVIEWER: "审核员",
}


@transaction.atomic
def grant_role(*, username, region_code, role, password=None):
    """Create or update a staff user with one region and one role.

    The role's group replaces any other role group, so a user who moves from
    reporter to reviewer loses the reporter's permissions. A password given
    here is checked by the project's password validators; None leaves the
    current one (a new user without one cannot log in until it is set).
    """
    from django.contrib.auth import get_user_model, password_validation
    from django.contrib.auth.models import Group

    if role not in Membership.Role.values:
        choices = "、".join(f"{value}（{label}）" for value, label in Membership.Role.choices)
        raise ValidationError({"role": _("未知的角色“%(role)s”，可选：%(choices)s") % {"role": role, "choices": choices}})
    region = Region.objects.filter(pk=region_code).first()
    if region is None:
        raise ValidationError({"region": _("未知的地区代码“%(code)s”") % {"code": region_code}})

    User = get_user_model()
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        user = User(username=username)
        user.full_clean(exclude=["password"])
        user.set_unusable_password()
    if password is not None:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
    user.is_staff = True
    user.save()

    membership = Membership.objects.filter(user=user).first() or Membership(user=user)
    membership.region = region
    membership.role = role
    membership.full_clean()
    membership.save()

    groups = Group.objects.filter(name__in=ROLE_GROUPS.values())
    user.groups.remove(*[g for g in groups if g.name != ROLE_GROUPS[role]])
    user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
    return membership
