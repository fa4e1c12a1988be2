"""Output guards: checks for degenerate outputs (checks.py), what the stages do with them
(retry.py: warnings on the record and one retry with safer decoding), and the one loop both
model stages run (loop.py)."""

from pipeline.guards.checks import GuardFinding, GuardSettings, check_summary, check_translation
from pipeline.guards.loop import Guarded, guard_outputs
from pipeline.guards.retry import SAFER_DECODING, Scored, guard_settings, record_findings

__all__ = [
    "SAFER_DECODING",
    "GuardFinding",
    "GuardSettings",
    "Guarded",
    "Scored",
    "check_summary",
    "check_translation",
    "guard_outputs",
    "guard_settings",
    "record_findings",
]
