"""What resume refuses: the settings that shape records, their fingerprint, and the check
that an output folder was made with the same settings, models and input (run.json)."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.config import PipelineConfig
from pipeline.errors import RunRefusedError
from pipeline.generation.model_identity import LOCAL_IDENTITY, model_identity
from pipeline.output.manifest import now, read_manifest
from pipeline.registry import canonical_name, holds_model
from pipeline.storage.objects import StoragePath

logger = logging.getLogger(__name__)

# Settings that change what a record contains; device, threads and progress do not.
FINGERPRINT_SECTIONS = ("stages", "split", "translate", "summarize", "guards")
FINGERPRINT_RUN_KEYS = ("non_indonesian",)
# Keys that only change speed, memory or where files are found: lowering a batch size
# after an out-of-memory error must not need --force.
OPERATIONAL_KEYS = frozenset(
    {
        "max_batch_tokens",
        "max_batch_sentences",
        "adapt_batch_to_memory",
        "dedupe",
        "dedupe_memory",
        "cache_path",
        "cache_dir",
        "local_files_only",
        "ct2_model_dir",
    }
)
# Settings that name a file whose content shapes records: the content counts, not the path
# (editing the glossary is a change; moving it is not).
CONTENT_FILE_KEYS = ("glossary", "shortlist")
UNREADABLE = "unreadable"  # a named file that cannot be read now (setup says why)


def config_fingerprint(config: PipelineConfig) -> tuple[str, dict[str, Any]]:
    """A digest of everything that decides a record's content, and those settings."""
    data = config.model_dump(mode="json")
    relevant = {k: v for k, v in data.items() if k in FINGERPRINT_SECTIONS}
    relevant["run"] = {k: data["run"][k] for k in FINGERPRINT_RUN_KEYS}
    for family in ("translate", "summarize"):
        stage = getattr(config.stages, family)
        settings = relevant[family]
        if stage is None:
            relevant[family] = {}  # a stage that is off cannot change records
        elif not holds_model(stage):  # no model: only the settings it reads count
            relevant[family] = {"extractive_sentences": settings["extractive_sentences"]}
        else:
            relevant[family] = {k: v for k, v in settings.items() if k not in OPERATIONAL_KEYS}
            for key in CONTENT_FILE_KEYS:
                if relevant[family].get(key):
                    relevant[family][key] = file_identity(Path(relevant[family][key]))
            resolved = model_identity(getattr(config, family))
            relevant[family]["resolved"] = resolved
            if resolved is not None and resolved.startswith(LOCAL_IDENTITY):
                del relevant[family]["model"]  # a moved or copied folder is the same model
    digest = hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]
    return digest, relevant


def file_identity(path: Path) -> str:
    """A file's content, wherever it lies: "sha256:<digest>", or "unreadable"."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return UNREADABLE
    return f"{LOCAL_IDENTITY}{digest.hexdigest()[:16]}"


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Settings that changed, by dotted name; an empty section equals a missing one."""
    before, after = _flatten(old), _flatten(new)
    return [
        f"{key}: {before.get(key)!r} -> {after.get(key)!r}"
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        elif value is not None:
            out[f"{prefix}{key}"] = value
    return out


@dataclass
class Manifest:
    """run.json as read, and what this run will write into it."""

    data: dict[str, Any]
    fingerprint: str
    settings: dict[str, Any]
    forced: bool = False

    def adopt_settings(self) -> None:
        """This run's settings become the folder's: only once records were made with them,
        so a --force run that processed nothing changes nothing."""
        self.data.update({"fingerprint": self.fingerprint, "settings": self.settings})


def check_manifest(
    out_dir: StoragePath, config: PipelineConfig, input_root: str, force: bool
) -> Manifest:
    """Refuse (unless forced) an OUT_DIR made with other settings or from another input."""
    digest, relevant = config_fingerprint(config)
    manifest = Manifest(read_manifest(out_dir), digest, relevant)
    data = manifest.data
    changes = []
    if data.get("fingerprint"):
        changes = differences(_known(data.get("settings", {}), relevant), relevant)
    if data.get("input") not in (None, input_root):
        changes.append(f"input folder: {data['input']!r} -> {input_root!r}")
    if changes:
        if not force:
            raise RunRefusedError(
                f"{out_dir} holds records made with different settings, models or input; "
                "mixing them would give inconsistent outputs. Changed:\n  "
                + "\n  ".join(changes[:20])
                + "\nUse a new output folder, or --force to continue anyway (records "
                "made earlier are kept as they are)."
            )
        logger.warning("--force: continuing in %s although %s", out_dir, "; ".join(changes))
        data.setdefault("forced", []).append({"at": now(), "changes": changes})
        manifest.forced = True
    else:
        manifest.adopt_settings()
    data.update(
        {"input": input_root, "id2en": __version__, "config": config.model_dump(mode="json")}
    )
    return manifest


def _known(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A model the last run had not downloaded yet resolves now: that is not a change.
    Nor is the path of a local model folder, which its content digest stands for, a stage
    recorded under its old name, or a setting newer than the folder left at its default.
    A glossary or shortlist recorded by its path (before contents counted) is taken as is."""
    old = json.loads(json.dumps(old))
    stages = old.get("stages")
    if isinstance(stages, dict):
        old["stages"] = {family: canonical_name(name) for family, name in stages.items()}
    defaults = PipelineConfig().model_dump(mode="json")
    for family, section in new.items():
        before = old.get(family)
        if isinstance(section, dict) and isinstance(before, dict) and before:
            for key, value in section.items():
                if key not in before and defaults.get(family, {}).get(key, _ABSENT) == value:
                    before[key] = value
    for family in ("translate", "summarize"):
        section = old.get(family)
        if isinstance(section, dict):
            _known_model_section(section, new.get(family, {}))
    return old


def _known_model_section(section: dict[str, Any], new: dict[str, Any]) -> None:
    if section.get("resolved", "") is None:
        section["resolved"] = new.get("resolved")
    if str(section.get("resolved")).startswith(LOCAL_IDENTITY):
        section.pop("model", None)
    for key in CONTENT_FILE_KEYS:  # a folder from before file contents counted: a path
        value = section.get(key)
        if isinstance(value, str) and not value.startswith((LOCAL_IDENTITY, UNREADABLE)):
            section[key] = new.get(key)


_ABSENT = object()
