"""Writes that involve more than one row, as keyword-only functions the admin, the API and commands call.

reports: entry and the review workflow. plans: programmes, items and targets.
drafting: a draft programme from what a person kept of an extraction.
Each says what it changes besides its own row (stored totals, tallies).
"""

from .drafting import create_draft_programme
from .plans import delete_item, delete_programme, delete_target, save_programme, save_target
from .reports import (
    approve_report, create_report, delete_report, publish_evidence, return_report, submit_report, update_report,
)

__all__ = [
    "approve_report", "create_draft_programme", "create_report", "delete_item", "delete_programme", "delete_report", "delete_target",
    "publish_evidence", "return_report", "save_programme", "save_target", "submit_report", "update_report",
]
