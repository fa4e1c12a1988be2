"""Every error id2en raises for the user, each with the exit code the CLI returns for it.

The messages are written for a person: what went wrong, where, and how to fix it. The CLI
maps errors to exit codes here and nowhere else (`exit_code`).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED_ARTICLES = 1  # the run finished, some articles failed (see their records)
EXIT_USAGE = 2  # bad arguments, config or input; a run refused
EXIT_MODEL = 3  # a model could not be loaded
EXIT_IO = 4  # a file system error (disk full, permissions): any OSError
EXIT_CLUSTER = 5  # the Ray cluster lost workers past its retries; the run resumes
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM


class Id2enError(Exception):
    """Base of id2en's own errors."""

    exit_code = EXIT_USAGE


class ConfigError(Id2enError, ValueError):
    """A configuration problem, phrased for the user: where, what, how to fix."""


class InputError(Id2enError, ValueError):
    """An input could not be read as an article; the message says why and what to do."""


class DecodeError(InputError):
    """Bytes that are not text in any encoding id2en accepts."""


class ModelLoadError(Id2enError, RuntimeError):
    """A model or tokenizer could not be found or loaded; the message says how to fix it."""

    exit_code = EXIT_MODEL


class RunRefusedError(Id2enError, RuntimeError):
    """The run cannot start: folder locked, settings changed since the last run, ..."""


class ClusterError(Id2enError, RuntimeError):
    """The Ray cluster could not finish a run (workers or nodes lost past the retries);
    the records finished are kept and the same command resumes."""

    exit_code = EXIT_CLUSTER


def excerpt(text: str, limit: int = 200) -> str:
    """`text` for an error message: cut to `limit` characters, saying so, when longer.

    >>> excerpt("x" * 300, 5)
    'xxxxx... (300 characters, cut here)'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters, cut here)"


def exit_code(exc: BaseException) -> int | None:
    """The CLI's exit code for an error, or None for one that is a bug (a traceback).

    >>> exit_code(ModelLoadError("no such model")), exit_code(ConfigError("bad key"))
    (3, 2)
    >>> exit_code(OSError(28, "No space left on device")), exit_code(ValueError("bug"))
    (4, None)
    """
    if isinstance(exc, Id2enError):
        return exc.exit_code
    if isinstance(exc, OSError):
        return EXIT_IO
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return None
