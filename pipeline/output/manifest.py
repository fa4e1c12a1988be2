"""run.json, the output folder's manifest: the one module that reads and writes it.

It keeps the resolved config, its fingerprint, the input it is bound to, start and end
times and the last report line. Times are written in one format, which `parse_time` reads.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from pipeline.output.atomic import atomic_write_text
from pipeline.output.records import MANIFEST
from pipeline.storage.objects import StoragePath, location

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def read_manifest(out_dir: StoragePath) -> dict[str, Any]:
    """OUT/run.json as a dict; empty when there is none or it cannot be read (a folder
    made by hand, or one whose run was killed before its first write)."""
    try:
        data = json.loads((location(out_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_manifest(out_dir: StoragePath, data: dict[str, Any]) -> None:
    atomic_write_text(location(out_dir) / MANIFEST, json.dumps(data, indent=1) + "\n")


def now() -> str:
    """This moment as run.json writes times."""
    return time.strftime(TIME_FORMAT)


def parse_time(value: Any) -> datetime | None:
    """A time run.json wrote, or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, TIME_FORMAT)
    except ValueError:
        return None
