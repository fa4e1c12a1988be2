"""Progress bars that suit where they are shown: a notebook widget, a terminal, or nothing.

`auto` shows a bar in a Jupyter kernel and on an interactive terminal, and nothing when
output goes to a file or a CI log (carriage-return bars make such logs unreadable).
"""

from __future__ import annotations

import sys
from typing import Any, Literal

ProgressMode = Literal["auto", "always", "never"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (not a terminal IPython, whose stdout is a TTY anyway)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def progress_enabled(mode: ProgressMode = "auto") -> bool:
    if mode == "never":
        return False
    if mode == "always":
        return True
    # The bar is drawn on stderr, but stdout redirected means a log is being kept.
    return in_notebook() or (_is_tty(sys.stdout) and _is_tty(sys.stderr))


def _bar_class() -> type:
    """tqdm's notebook widget when ipywidgets is present, else the text bar.

    tqdm.auto makes this choice too, but warns (into the notebook) when ipywidgets is
    missing; the text bar renders fine in Jupyter, so fall back quietly.
    """
    if in_notebook():
        try:
            from tqdm.notebook import IProgress
            from tqdm.notebook import tqdm as notebook_tqdm

            if IProgress is not None:
                return notebook_tqdm
        except ImportError:
            pass
    from tqdm.std import tqdm

    return tqdm


def progress_bar(total: int | None = None, mode: ProgressMode = "auto", **kwargs: Any) -> Any:
    """A tqdm bar (disabled, so free to update, when `mode` says no output)."""
    kwargs.setdefault("dynamic_ncols", True)
    return _bar_class()(total=total, disable=not progress_enabled(mode), **kwargs)


def notice(message: str, mode: ProgressMode = "auto") -> None:
    """One status line on stderr wherever a bar would show: a wait of seconds with nothing
    on screen looks hung. Nothing when output goes to a file, a pipe or a log."""
    if progress_enabled(mode):
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
