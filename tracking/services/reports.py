"""Writes of progress reports: entry, edits and the review workflow.

The admin, the API and the extraction page all call these, so the rules are
checked once: who may take a step and where it leads come from the workflow
table (tracking.workflow), and every step that changes what counts
refreshes the target's stored totals and its programme's tally and months
(tracking.totals.refresh) in the same transaction, in plain sight below; the
steps that change no total (drafts) recount the months alone
(tracking.months), which count drafts for the completeness grid.
Each function locks the target, then the report, so two reviewers acting on
the same report at the same moment are serialised and the second one sees
the first one's result instead of counting twice.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import access, months, totals, workflow
from ..db import lock
from ..followup.closing import ensure_open
from ..models import ProgressReport, Target

Status = ProgressReport.Status


def _locked(report):
    """The report as it is now, its target and then itself locked; 404 if it was deleted meanwhile."""
    # The target first, then the report: the order imports lock them in
    # (importing locks targets, then updates their reports). Locking the
    # report first, as the joined query below alone would, deadlocks against
    # an import of the same report. A report's target never changes.
    lock(Target.objects.filter(pk=report.target_id))
    # Only the report row (of=self): the joined programme row, locked too by
    # default, would make a new tally's insert (whose foreign key check
    # needs that row) and this transaction's own recount wait for each other.
    locked = (
        ProgressReport.objects.select_for_update(of=("self",)).select_related("target__programme", "target__item")
        .filter(pk=report.pk).first()
    )
    if locked is None:
        # Deleted by another request since the caller read it.
        raise Http404(_("该填报已不存在"))
    return locked


def _save(report, user):
    report.full_clean()
    report._history_user = user
    report.save()


@transaction.atomic
def create_report(*, user, target, period_end, value, qualifier=ProgressReport.Qualifier.EXACT, note="", evidence=None):
    if not access.may_enter(user, target):
        raise PermissionDenied(_("您无权为该指标填报"))
    # Serialises creations for one target, so that full_clean() below sees a
    # report for the same date created at the same moment (a double click, an
    # import) and refuses it, instead of the insert failing on the unique
    # constraint; and takes the target before the report, as _locked() does.
    lock(Target.objects.filter(pk=target.pk))
    if period_end is not None:
        ensure_open(programme=target.programme, day=period_end)
    report = ProgressReport(
        target=target, period_end=period_end, value=value, qualifier=qualifier, note=note, created_by=user,
        status=Status.DRAFT,
    )
    if evidence:
        report.evidence = evidence
    # A new report is a draft, which counts for nothing yet: no totals change, but its month has a draft.
    _save(report, user)
    months.recount([target.programme_id])
    return report


@transaction.atomic
def update_report(*, user, report, **fields):
    report = _locked(report)
    workflow.next_state(user, report, "edit")
    ensure_open(programme=report.target.programme, day=report.period_end)
    for name, value in fields.items():
        setattr(report, name, value)
    if report.period_end is not None:
        # Moved to another date: that period must be open too.
        ensure_open(programme=report.target.programme, day=report.period_end)
    # Only drafts and returned reports change, and neither counts: no totals change; its month may.
    _save(report, user)
    months.recount([report.target.programme_id])
    return report


@transaction.atomic
def delete_report(*, user, report):
    report = _locked(report)
    workflow.next_state(user, report, "delete")
    ensure_open(programme=report.target.programme, day=report.period_end)
    report._history_user = user
    report.delete()
    # Only drafts and returned reports are deleted (tracking.workflow): no totals change; its month does.
    months.recount([report.target.programme_id])


@transaction.atomic
def submit_report(*, user, report):
    report = _locked(report)
    report.status = workflow.next_state(user, report, "submit")
    ensure_open(programme=report.target.programme, day=report.period_end)
    # Timeliness is judged from this moment (tracking.followup.selectors); a resubmission moves it.
    report.submitted_at = timezone.now()
    _save(report, user)
    # Submitted reports are the target's pending value and count.
    totals.refresh([report.target_id])
    return report


@transaction.atomic
def approve_report(*, user, report, note=""):
    # Now it counts: the target's progress, and its programme's tally.
    return _review(user=user, report=report, step="approve", note=note)


@transaction.atomic
def return_report(*, user, report, note):
    """Send a submitted report back, or reopen an approved one. Needs a note."""
    if not (note or "").strip():
        raise ValidationError({"review_note": _("退回时必须填写审核意见")})
    # It no longer counts (approved) or is no longer pending (submitted).
    return _review(user=user, report=report, step="return", note=note)


def _review(*, user, report, step, note):
    """A reviewer's step: the status the table gives, who and when, the note; then the totals that change."""
    report = _locked(report)
    after = workflow.next_state(user, report, step)
    if step == "return" and report.status == Status.APPROVED:
        # Reopening an approved figure changes what counted: not in a closed period.
        ensure_open(programme=report.target.programme, day=report.period_end)
    report.status = after
    if after != Status.APPROVED:
        # A reopened figure's evidence goes private with it (the report_public_evidence_approved constraint).
        report.evidence_public = False
    if report.submitted_at is None and report.status == Status.APPROVED:
        # A superuser approving a draft directly: delivered now.
        report.submitted_at = timezone.now()
    report.reviewed_by, report.reviewed_at, report.review_note = user, timezone.now(), note
    _save(report, user)
    totals.refresh([report.target_id])
    return report


@transaction.atomic
def publish_evidence(*, user, report, public):
    """Show an approved report's evidence on the 公示 pages (public=True), or stop showing it.

    A reviewer's step (workflow "publish"); changes the report's
    evidence_public only, so no figure, total or tally moves.
    """
    report = _locked(report)
    if not public and not report.evidence_public:
        # Already private (reopened meanwhile, or withdrawn twice): nothing to change.
        return report
    workflow.next_state(user, report, "publish")
    if report.evidence_public == public:
        return report
    if public and not report.evidence:
        raise workflow.WorkflowConflict(_("该填报没有佐证材料，无法公开"))
    report.evidence_public = public
    _save(report, user)
    return report
