"""The data model. Each module holds one part of it; this package gathers them for Django and for imports.

regions: the region tree and memberships (Region.objects.visible_to, the one
scoping rule). programmes: programmes and their items. targets: targets and
their stored totals. reports: progress reports. tallies: per-programme
summary figures and monthly report counts. The rules over them live beside
it: tracking.progress, tracking.access, tracking.workflow, tracking.totals,
tracking.tallies, tracking.months.
"""

from .base import NON_NEGATIVE, VALUE_FIELD, Timestamped
from .followup import Message, PeriodClosure
from .programmes import Category, Item, Programme
from .regions import Membership, Region, sees_everything
from .reports import EVIDENCE_EXTENSIONS, EVIDENCE_MAX_BYTES, ProgressReport, validate_evidence_size
from .tallies import ProgrammeMonth, ProgrammeTally
from .targets import Target
from . import signals  # noqa: F401  (fixture loading; see its docstring)

__all__ = [
    "EVIDENCE_EXTENSIONS", "EVIDENCE_MAX_BYTES", "NON_NEGATIVE", "VALUE_FIELD",
    "Category", "Item", "Membership", "Message", "PeriodClosure", "ProgrammeMonth", "ProgrammeTally", "Programme", "ProgressReport", "Region", "Target",
    "Timestamped", "sees_everything", "validate_evidence_size",
]
