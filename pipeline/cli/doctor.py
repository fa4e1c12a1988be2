"""`id2en doctor`: the facts a bug report needs (versions against the lock file, devices,
threads, the model cache), collected without the network and without loading a model."""

from __future__ import annotations

import os
import platform
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline import __version__

PACKAGES = (
    "torch",
    "transformers",
    "tokenizers",
    "sentencepiece",
    "ctranslate2",
    "datasets",
    "pyarrow",
    "ray",
    "numpy",
    "pydantic",
)
# The CPU lock CI installs from, shipped inside the package (`uv pip compile` output).
LOCK_FILE = Path(__file__).resolve().parents[1] / "data" / "cpu-lock.txt"

# `name[extras]==version ; marker`; `===` (arbitrary equality) is not a pin we compare.
_PIN = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==(?!=)\s*"
    r"(?P<version>[^\s;\\#]+)\s*(?:;(?P<marker>[^#\\]*))?"
)


@dataclass
class PackageFact:
    version: str | None  # None: not installed
    locked: str | None  # None: not in the lock, or no lock file
    lock: str  # ok | differs | not installed | not in the lock | no lock file


@dataclass
class TorchFacts:
    error: str | None = None  # "not installed", or why the import failed
    cuda_available: bool | None = None
    cuda_version: str | None = None  # the CUDA torch was built with; None: a CPU build
    device_count: int | None = None
    devices: list[str] = field(default_factory=list)
    mps_available: bool | None = None


@dataclass
class CTranslate2Facts:
    error: str | None = None
    cuda_device_count: int | None = None


@dataclass
class RunFacts:
    """The device, dtype and threads the default config resolves to, as a run resolves them."""

    device_setting: str | None  # None: the config could not be read
    threads: int | None = None
    device: str | None = None
    dtype: str | None = None
    error: str | None = None


@dataclass
class HubFacts:
    cache: str
    offline: bool | None  # None: unknown (see error)
    env: dict[str, str | None]  # the variables that decide both, as set
    error: str | None = None


@dataclass
class Report:
    id2en: str
    python: str
    executable: str
    platform: str
    lock_file: str
    lock_error: str | None  # "lock file not found", or why it could not be read
    packages: dict[str, PackageFact]
    torch: TorchFacts
    ctranslate2: CTranslate2Facts
    run: RunFacts
    huggingface: HubFacts

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalize_name(name: str) -> str:
    """PEP 503: lowercase, runs of -, _ and . become one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _marker_holds(marker: str, markers: Any) -> bool:
    try:
        return bool(markers.Marker(marker).evaluate())
    except ValueError:  # an invalid or unevaluable marker: the line is kept, not guessed away
        return True


def _pick(entries: list[tuple[str, str]]) -> str | None:
    """The version whose marker holds for this interpreter (None if none does); without
    `packaging` to evaluate markers, the first."""
    try:
        from packaging import markers
    except ImportError:
        return entries[0][0]
    return next((v for v, m in entries if not m or _marker_holds(m, markers)), None)


def parse_lock(text: str) -> dict[str, str]:
    """Pinned versions by normalised name from a pip requirements/constraints file.

    >>> parse_lock("Ray[data]==2.50.1 ; python_version >= '3'\\n    # via id2en\\n")
    {'ray': '2.50.1'}
    """
    entries: dict[str, list[tuple[str, str]]] = {}
    for line in text.splitlines():
        match = _PIN.match(line)
        if match:
            marker = (match["marker"] or "").strip()
            entries.setdefault(normalize_name(match["name"]), []).append((match["version"], marker))
    picked = {name: _pick(versions) for name, versions in entries.items()}
    return {name: version for name, version in picked.items() if version is not None}


def read_lock(path: Path) -> tuple[dict[str, str] | None, str | None]:
    """(pins, None), or (None, why there are none)."""
    try:
        return parse_lock(path.read_text(encoding="utf-8")), None
    except FileNotFoundError:
        return None, "lock file not found"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"lock file unreadable: {type(exc).__name__}: {exc}"


def same_version(installed: str, locked: str) -> bool:
    """A local build suffix (`2.13.0+cpu`) matches a lock that pins no suffix (`2.13.0`)."""
    if "+" not in locked:
        installed = installed.split("+", 1)[0]
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:
        return installed == locked
    try:
        return Version(installed) == Version(locked)
    except InvalidVersion:
        return installed == locked


def lock_status(installed: str | None, locked: str | None, *, have_lock: bool = True) -> str:
    if not have_lock:
        return "no lock file"
    if locked is None:
        return "not in the lock"
    if installed is None:
        return "not installed"
    return "ok" if same_version(installed, locked) else "differs"


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def package_facts(names: Sequence[str], pins: dict[str, str] | None) -> dict[str, PackageFact]:
    facts = {}
    for name in names:
        version = installed_version(name)
        locked = (pins or {}).get(normalize_name(name))
        facts[name] = PackageFact(
            version, locked, lock_status(version, locked, have_lock=pins is not None)
        )
    return facts


def _failure(exc: BaseException) -> str:
    return f"import failed: {_error(exc)}"


def torch_facts() -> TorchFacts:
    if installed_version("torch") is None:
        return TorchFacts(error="not installed")
    try:
        import torch

        facts = TorchFacts(cuda_available=bool(torch.cuda.is_available()))
        facts.cuda_version = torch.version.cuda
        facts.device_count = torch.cuda.device_count() if facts.cuda_available else 0
        facts.devices = [torch.cuda.get_device_name(i) for i in range(facts.device_count)]
        mps = getattr(torch.backends, "mps", None)
        facts.mps_available = bool(mps and mps.is_available())
    except Exception as exc:  # a broken install is a fact for the report, not a crash
        return TorchFacts(error=_failure(exc))
    return facts


def ctranslate2_facts() -> CTranslate2Facts:
    if installed_version("ctranslate2") is None:
        return CTranslate2Facts(error="not installed")
    try:
        import ctranslate2

        return CTranslate2Facts(cuda_device_count=int(ctranslate2.get_cuda_device_count()))
    except Exception as exc:
        return CTranslate2Facts(error=_failure(exc))


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_facts() -> RunFacts:
    try:  # the config needs pydantic: a broken install is reported here too
        from pipeline.config import load_config
        from pipeline.generation.models import resolve_device, resolve_dtype, resolve_threads

        run = load_config("default").run
    except Exception as exc:
        return RunFacts(device_setting=None, error=_error(exc))
    facts = RunFacts(device_setting=run.device, threads=resolve_threads(run.threads))
    try:
        device = resolve_device(run.device)
        facts.device = str(device)
        facts.dtype = str(resolve_dtype(run.dtype, device)).replace("torch.", "")
    except Exception as exc:
        facts.error = _error(exc)
    return facts


def hf_cache_dir() -> str:
    """Where hub models are cached: HF_HUB_CACHE, else HF_HOME/hub, else the default."""
    try:
        from huggingface_hub import constants
    except ImportError:
        cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
        home = os.environ.get("HF_HOME") or os.path.join(cache_home, "huggingface")
        return os.path.expanduser(os.environ.get("HF_HUB_CACHE") or os.path.join(home, "hub"))
    return str(constants.HF_HUB_CACHE)


def hub_facts() -> HubFacts:
    names = ("HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    facts = HubFacts(hf_cache_dir(), None, {n: os.environ.get(n) for n in names})
    try:  # pipeline.generation.models reads the config types, which need pydantic
        from pipeline.generation.models import offline_by_env
    except Exception as exc:
        facts.error = _error(exc)
    else:
        facts.offline = offline_by_env()
    return facts


def collect(lock_path: Path | None = None, packages: Sequence[str] = PACKAGES) -> Report:
    """Every fact, without the network and without loading a model."""
    lock_path = LOCK_FILE if lock_path is None else Path(lock_path)
    pins, lock_error = read_lock(lock_path)
    return Report(
        id2en=__version__,
        python=platform.python_version(),
        executable=sys.executable,
        platform=platform.platform(),
        lock_file=str(lock_path),
        lock_error=lock_error,
        packages=package_facts(packages, pins),
        torch=torch_facts(),
        ctranslate2=ctranslate2_facts(),
        run=run_facts(),
        huggingface=hub_facts(),
    )


@dataclass
class LockDifference:
    name: str  # as installed
    version: str  # installed
    locked: str | None  # None: not in the lock


def lock_differences(pins: dict[str, str]) -> list[LockDifference]:
    """Every installed distribution whose version is not the locked one, or that the lock
    does not name (pip, setuptools, id2en itself ...), sorted by name."""
    seen: dict[str, LockDifference] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"] or ""
        key = normalize_name(name)
        locked = pins.get(key)
        if key and key not in seen and (locked is None or not same_version(dist.version, locked)):
            seen[key] = LockDifference(name, dist.version, locked)
    return [seen[key] for key in sorted(seen)]


def format_lock_differences(lock_path: Path | None = None) -> str:
    """`id2en doctor --lock-diff`: where this environment differs from the lock."""
    lock_path = LOCK_FILE if lock_path is None else Path(lock_path)
    pins, error = read_lock(lock_path)
    if pins is None:
        return f"{error} ({lock_path})"
    differences = lock_differences(pins)
    changed = [d for d in differences if d.locked is not None]
    extra = [d for d in differences if d.locked is None]
    lines = [f"against {lock_path}: {len(changed)} differ, {len(extra)} not in the lock"]
    lines += [f"  {d.name} {d.version} (locked {d.locked})" for d in changed]
    if extra:
        lines.append("not in the lock: " + ", ".join(f"{d.name} {d.version}" for d in extra))
    return "\n".join(lines)


def _package_line(name: str, fact: PackageFact) -> str:
    line = f"  {name} {fact.version or 'not installed'}"
    if fact.lock == "no lock file":
        return line
    if fact.locked is None:
        return f"{line} (not in the lock)"
    if fact.version is None:
        return f"{line} (locked {fact.locked})"
    return f"{line} (locked {fact.locked}: {fact.lock})"


def _yes(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _torch_line(facts: TorchFacts) -> str:
    if facts.error:
        return f"torch: {facts.error}"
    devices = f" ({', '.join(facts.devices)})" if facts.devices else ""
    return (
        f"torch: CUDA available {_yes(facts.cuda_available)}, built with CUDA "
        f"{facts.cuda_version or 'none (CPU build)'}, {facts.device_count} CUDA device(s)"
        f"{devices}; MPS available {_yes(facts.mps_available)}"
    )


def _run_line(facts: RunFacts) -> str:
    line = f"default config: device {facts.device_setting}"
    if facts.device_setting is None:
        return f"default config: cannot read it: {facts.error}"
    if facts.error:
        return f"{line} (cannot resolve: {facts.error}), threads {facts.threads}"
    return f"{line} -> {facts.device}, dtype {facts.dtype}, threads {facts.threads}"


def _hub_lines(facts: HubFacts) -> list[str]:
    set_vars = ", ".join(f"{k}={v}" for k, v in facts.env.items() if v is not None)
    return [
        f"Hugging Face cache: {facts.cache}",
        f"offline mode: {_yes(facts.offline)}"
        + (f" ({set_vars})" if set_vars else "")
        + (f"; cannot tell: {facts.error}" if facts.error else ""),
    ]


def format_text(report: Report) -> str:
    ct2 = report.ctranslate2
    lock = f"{report.lock_error} ({report.lock_file})" if report.lock_error else report.lock_file
    lines = [
        f"id2en {report.id2en}",
        f"python {report.python} ({report.executable})",
        f"platform {report.platform}",
        f"lock file: {lock}",
        "packages:",
        *(_package_line(name, fact) for name, fact in report.packages.items()),
        _torch_line(report.torch),
        "ctranslate2: "
        + (ct2.error or f"{ct2.cuda_device_count} CUDA device(s) (get_cuda_device_count)"),
        _run_line(report.run),
        *_hub_lines(report.huggingface),
    ]
    return "\n".join(lines)
