"""Output guards: checks for degenerate outputs (checks.py), and how the stages act on them:
warnings on the record and one retry with safer decoding (retry.py)."""

from pipeline.guards.checks import GuardFinding, GuardSettings, check_summary, check_translation
from pipeline.guards.retry import SAFER_DECODING, guard_settings, record_findings, retry_flagged

__all__ = [
    "SAFER_DECODING",
    "GuardFinding",
    "GuardSettings",
    "check_summary",
    "check_translation",
    "guard_settings",
    "record_findings",
    "retry_flagged",
]
