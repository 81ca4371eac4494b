"""The review workflow as one table: in which state, which step, by whom, leads where.

draft → submitted → approved, or returned (and a returned or approved report
back to returned). The services (tracking.services.reports) check every step
against it before writing; the admin's buttons and actions and the API's
`steps` field ask it which steps a user may take. Nothing else encodes the
states.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from . import access
from .models import ProgressReport

Status = ProgressReport.Status

# Who takes a step: the entry roles (reporters, managers), the reviewers, or superusers only.
ENTER, REVIEW, SUPERUSER = "enter", "review", "superuser"

# (state, step, who, next state). "edit" and "delete" keep or end the report;
# a superuser may approve a draft directly, a reviewer only what was submitted.
TRANSITIONS = [
    (Status.DRAFT, "edit", ENTER, Status.DRAFT),
    (Status.RETURNED, "edit", ENTER, Status.RETURNED),
    (Status.DRAFT, "delete", ENTER, None),
    (Status.RETURNED, "delete", ENTER, None),
    (Status.DRAFT, "submit", ENTER, Status.SUBMITTED),
    (Status.RETURNED, "submit", ENTER, Status.SUBMITTED),
    (Status.SUBMITTED, "approve", REVIEW, Status.APPROVED),
    (Status.DRAFT, "approve", SUPERUSER, Status.APPROVED),
    (Status.RETURNED, "approve", SUPERUSER, Status.APPROVED),
    (Status.SUBMITTED, "return", REVIEW, Status.RETURNED),
    (Status.APPROVED, "return", REVIEW, Status.RETURNED),
    # Showing an approved figure's evidence on the 公示 pages, or no longer.
    (Status.APPROVED, "publish", REVIEW, Status.APPROVED),
]

# Which role a step needs at all (whatever the state), and what a refusal says: without
# the role it is not the user's to do (403); with it, the report's state does not allow it (409).
STEPS = {
    "edit": (ENTER, _("您无权修改该填报"), _("只有草稿或已退回的填报可以修改")),
    "delete": (ENTER, _("您无权删除该填报"), _("只有草稿或已退回的填报可以删除")),
    "submit": (ENTER, _("您无权提交该填报"), _("只有草稿或已退回的填报可以提交审核")),
    "approve": (REVIEW, _("只有审核员可以审核通过"), _("该填报当前状态为“%(status)s”，不能审核通过")),
    "return": (REVIEW, _("只有审核员可以退回"), _("该填报当前状态为“%(status)s”，不能退回")),
    "publish": (
        REVIEW, _("只有审核员可以公开佐证材料"), _("该填报当前状态为“%(status)s”，只有已通过的填报可以公开佐证材料")
    ),
}
# The buttons of a report: the steps that change its status.
STATUS_STEPS = ("submit", "approve", "return")

# States whose figures may still change: a report there is not yet, or no longer, counted.
EDITABLE = frozenset(state for state, step, _who, _next in TRANSITIONS if step == "edit")


class WorkflowConflict(Exception):
    """The report is not in a state that allows this step (HTTP 409)."""


def roles_held(user, report, *, in_scope=False):
    """The roles of the table this user holds for this report's target: none outside their regions.

    in_scope=True when the caller already knows the target is among the
    user's regions (it came from their visible reports), saving the query.
    """
    held = set()
    if user.is_superuser:
        held.add(SUPERUSER)
    if access.enters_reports(user):
        held.add(ENTER)
    if access.reviews_reports(user):
        held.add(REVIEW)
    if held and not in_scope and not access.in_scope(user, report.target.programme.region_id):
        return set()
    return held


def next_state(user, report, step, *, held=None):
    """The state this step leads the report to; PermissionDenied or WorkflowConflict if it may not be taken."""
    held = roles_held(user, report) if held is None else held
    needed, denied, conflict = STEPS[step]
    if needed not in held:
        raise PermissionDenied(str(denied))
    for state, name, who, after in TRANSITIONS:
        if state == report.status and name == step and who in held:
            return after
    raise WorkflowConflict(str(conflict) % {"status": report.get_status_display()})


def steps_for(user, report, *, in_scope=False, steps=STATUS_STEPS):
    """The steps this user may take on this report now, in the table's order (one scope query at most)."""
    held = roles_held(user, report, in_scope=in_scope)
    allowed = []
    for step in steps:
        try:
            next_state(user, report, step, held=held)
        except (PermissionDenied, WorkflowConflict):
            continue
        allowed.append(step)
    return allowed
