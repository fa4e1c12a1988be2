"""Whether the Hugging Face hub can be reached, asked once per process.

Without it, every file a load asks the hub for is retried with back-off (about 50 s and
dozens of warnings per model) before the load fails. One short probe decides instead: an
unreachable hub makes the loads use local files only (the cache still serves what it has).
"""

from __future__ import annotations

import logging
from functools import lru_cache

logger = logging.getLogger(__name__)


def hub_endpoint() -> str:
    """The hub huggingface_hub talks to (HF_ENDPOINT, read when it is imported)."""
    from huggingface_hub import constants

    return str(constants.ENDPOINT)


def unreachable_reason(endpoint: str | None = None) -> str | None:
    """Why the hub cannot be reached (e.g. "ConnectError: ... refused"), None when it answers."""
    return _probe(endpoint or hub_endpoint())


@lru_cache(maxsize=4)
def _probe(endpoint: str) -> str | None:
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    try:
        # Any HTTP answer, even an error status, means the network path works; the hub's
        # own metadata timeout bounds the wait. The session carries the user's proxy/TLS setup.
        get_session().head(endpoint, timeout=constants.HF_HUB_ETAG_TIMEOUT)
    except Exception as exc:  # connection refused, DNS, timeout, TLS: the hub is out of reach
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
        logger.info("the Hugging Face hub at %s cannot be reached (%s)", endpoint, reason)
        return reason
    return None
