"""Finished translations kept across runs in one SQLite file, so re-runs cost nothing.

An entry is keyed by a *namespace* (model id, revision, backend and precision and the full
generation settings, hashed) plus the exact source sentence. Anything that can change the
output changes the namespace, so a cache never serves a translation made with other settings.

The file is opened in WAL mode: readers never block the writer, and several processes of one
run (or two runs over overlapping corpora) can share it. Keep it on a local disk: SQLite
locking is unreliable on network file systems.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pipeline.errors import ConfigError
from pipeline.generation.model_identity import model_fingerprint

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_CHUNK = 500  # stays under SQLite's limit on bound variables per statement


@dataclass(frozen=True)
class CachedTranslation:
    """What the translate stage needs back from a finished translation."""

    text: str
    output_tokens: int
    hit_length_limit: bool
    score: float | None = None  # mean log-probability per token (Generated.score)


class TranslationLike(Protocol):
    """Anything with these fields (generation.Generated, CachedTranslation) can be stored."""

    @property
    def text(self) -> str: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def hit_length_limit(self) -> bool: ...
    @property
    def score(self) -> float | None: ...


def namespace_key(
    model_id: str, revision: str | None, backend_id: str, settings: Mapping[str, Any]
) -> tuple[str, str]:
    """(hash, description): everything besides the sentence that decides the output."""
    description = json.dumps(
        {
            "model": model_fingerprint(model_id, revision),
            # Stored key kept from id2en 0.1 ("engine"), so existing cache files stay valid.
            "engine": backend_id,
            "settings": {k: settings[k] for k in sorted(settings)},
        },
        sort_keys=True,
        default=repr,  # odd values (objects) still key, if never stably: no false hits
    )
    return hashlib.sha256(description.encode()).hexdigest()[:32], description


class TranslationCache:
    """A persistent sentence -> translation table, safe to share between threads and runs.

    The connection opens lazily and again after a fork, so a stage holding a cache can be
    pickled or forked into workers.
    """

    def __init__(self, path: str | os.PathLike[str], timeout_s: float = 60.0):
        self.path = Path(path).expanduser()
        self.timeout_s = timeout_s
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None
        self._known_namespaces: set[str] = set()

    # -- connection ---------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self.timeout_s, check_same_thread=False, isolation_level=None
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes
        conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS namespaces (
                id TEXT PRIMARY KEY, description TEXT NOT NULL, created REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS translations (
                namespace TEXT NOT NULL, source TEXT NOT NULL, text TEXT NOT NULL,
                output_tokens INTEGER NOT NULL, hit_length_limit INTEGER NOT NULL,
                PRIMARY KEY (namespace, source)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
        )
        columns = {row[1] for row in conn.execute("PRAGMA table_info(translations)")}
        if "score" not in columns:  # files written before scores were kept
            conn.execute("ALTER TABLE translations ADD COLUMN score REAL")
        conn.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        self._conn, self._pid = conn, os.getpid()
        self._known_namespaces.clear()
        return conn

    def check(self) -> None:
        """Open the file now: one that is not a translation cache is a config error."""
        try:
            with self._lock:
                conn = self._connection()
                conn.execute("SELECT count(*) FROM namespaces").fetchone()
        except (sqlite3.DatabaseError, OSError) as exc:
            self.close()
            raise ConfigError(
                f"translate.cache_path {str(self.path)!r} cannot be used as a translation "
                f"cache ({exc}); remove or rename the file, or point cache_path elsewhere"
            ) from None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_conn=None, _pid=None, _lock=None, _known_namespaces=set())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- reads and writes ---------------------------------------------------------------

    def register(self, namespace: str, description: str) -> None:
        """Record what a namespace hash stands for, so the file can be inspected later."""
        if namespace in self._known_namespaces:
            return
        with self._lock:
            self._connection().execute(
                "INSERT OR IGNORE INTO namespaces VALUES (?, ?, ?)",
                (namespace, description, time.time()),
            )
            self._known_namespaces.add(namespace)

    def get_many(self, namespace: str, sources: Iterable[str]) -> dict[str, CachedTranslation]:
        wanted = list(dict.fromkeys(sources))
        found: dict[str, CachedTranslation] = {}
        with self._lock:
            conn = self._connection()
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT source, text, output_tokens, hit_length_limit, score FROM translations "
                    f"WHERE namespace = ? AND source IN ({marks})",
                    (namespace, *chunk),
                ).fetchall()
                for source, text, tokens, hit, score in rows:
                    found[source] = CachedTranslation(text, int(tokens), bool(hit), score)
        self.hits += len(found)
        self.misses += len(wanted) - len(found)
        return found

    def put_many(self, namespace: str, entries: Mapping[str, TranslationLike]) -> None:
        rows = [
            (namespace, source, t.text, int(t.output_tokens), int(t.hit_length_limit), t.score)
            for source, t in entries.items()
        ]
        if not rows:
            return
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")  # one write transaction per batch, not per row
            try:
                conn.executemany(
                    "INSERT OR REPLACE INTO translations (namespace, source, text, output_tokens,"
                    " hit_length_limit, score) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def count(self, namespace: str | None = None) -> int:
        with self._lock:
            conn = self._connection()
            if namespace is None:
                return int(conn.execute("SELECT COUNT(*) FROM translations").fetchone()[0])
            query = "SELECT COUNT(*) FROM translations WHERE namespace = ?"
            return int(conn.execute(query, (namespace,)).fetchone()[0])
