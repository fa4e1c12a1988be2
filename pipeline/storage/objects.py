"""Object storage as id2en's paths: an `ObjectPath` answers the pathlib.Path methods the
readers and writers call (open, read_text, stat, /, name, suffix, ...) through fsspec, so
the same code reads a local folder and an s3:// prefix.

Local paths stay pathlib.Path (no fsspec in the way); `file://` URLs become local paths.
Credentials come from each backend's usual chain (for S3: AWS_* variables, ~/.aws/config
and credentials, instance or pod roles), never from id2en's config or records: a URL
names only the bucket and prefix.

On object storage there is no rename: an object is written in one request (a PUT) and
appears whole or not at all, so `write_bytes` is id2en's atomic write there.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from pipeline.errors import Id2enError, RunRefusedError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

# The extra that brings a protocol's fsspec backend, named in the error when it is missing.
EXTRAS = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
}

BACKENDS = {"s3": "s3fs", "gcs": "gcsfs", "azure": "adlfs"}  # the package each extra brings

_filesystems: dict[str, Any] = {}
_filesystems_lock = threading.Lock()


def is_url(value: object) -> bool:
    """An object-storage URL (s3://bucket/prefix); file:// and plain paths are local."""
    text = str(value)
    return bool(_URL.match(text)) and not text.lower().startswith("file://")


def location(value: str | os.PathLike[str] | ObjectPath) -> StoragePath:
    """What a user named as input or output: an ObjectPath for a URL, else a local Path.

    >>> location("s3://bucket/news/")
    ObjectPath('s3://bucket/news')
    >>> location("file:///data/in"), location("in/")
    (PosixPath('/data/in'), PosixPath('in'))
    """
    if isinstance(value, ObjectPath):
        return value
    text = os.fspath(value)
    if text.lower().startswith("file://"):
        return Path(unquote(urlsplit(text).path))
    return ObjectPath(text) if is_url(text) else Path(text)


def filesystem(protocol: str) -> Any:
    """The fsspec file system for a protocol, one per process (it keeps its connections).
    A missing backend is one error naming what to install."""
    with _filesystems_lock:
        if protocol not in _filesystems:
            _filesystems[protocol] = _open_filesystem(protocol)
        return _filesystems[protocol]


def forget_filesystems() -> None:
    """Open file systems afresh on next use (after credentials or endpoints changed)."""
    with _filesystems_lock:
        _filesystems.clear()


def _open_filesystem(protocol: str) -> Any:
    """Three errors, each saying what to do: a protocol fsspec does not know, a backend
    that is not installed, and a backend that refuses to start (adlfs without an account
    name or credentials, ...)."""
    try:
        import fsspec
    except ImportError:  # datasets brings it; a trimmed install may not
        raise RunRefusedError(_missing(protocol, "fsspec")) from None
    try:
        backend = fsspec.get_filesystem_class(protocol)
    except ImportError as exc:
        raise RunRefusedError(_missing(protocol, str(exc))) from None
    except ValueError as exc:  # "Protocol not known"
        if protocol in EXTRAS:  # only its backend, once installed, registers it (abfss)
            reason = f"{exc}; {BACKENDS[EXTRAS[protocol]]} registers it"
            raise RunRefusedError(_missing(protocol, reason)) from None
        raise RunRefusedError(
            f"{protocol}:// is not a storage id2en can reach ({exc}); use a local folder or "
            "a URL fsspec knows (s3://, gs://, az://, ...)"
        ) from None
    try:
        # Not fsspec's shared instance: it keeps the endpoint and credentials it first saw.
        return backend(skip_instance_cache=True)
    except ImportError as exc:  # a backend's own optional dependency
        raise RunRefusedError(_missing(protocol, str(exc))) from None
    except Exception as exc:
        raise RunRefusedError(
            f"{protocol}:// storage could not be opened ({type(exc).__name__}: {exc}); check "
            "its credentials and settings (README: Object storage)"
        ) from None


def _missing(protocol: str, reason: str) -> str:
    extra = EXTRAS.get(protocol)
    hint = f'pip install "id2en[{extra}]"' if extra else "install its fsspec backend"
    return f"{protocol}:// URLs need a package that is not installed ({reason}): {hint}"


class ObjectPath:
    """A file or prefix in object storage, spelled as a URL; immutable and picklable (it
    travels to Ray workers), its file system opened on first use in each process."""

    __slots__ = ("key", "protocol")

    def __init__(self, url: str) -> None:
        protocol, _, rest = url.partition("://")
        self.protocol = protocol.lower()
        self.key = rest.strip("/")  # bucket/prefix/name, no leading or trailing slash

    def _child(self, key: str) -> ObjectPath:
        return ObjectPath(f"{self.protocol}://{key}")

    # -- names, as PurePath has them --------------------------------------------------

    def __str__(self) -> str:
        return f"{self.protocol}://{self.key}"

    def __repr__(self) -> str:
        return f"ObjectPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectPath) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash(str(self))

    def __lt__(self, other: ObjectPath) -> bool:
        return str(self) < str(other)

    def __truediv__(self, part: str) -> ObjectPath:
        return self.joinpath(part)

    def joinpath(self, *parts: str) -> ObjectPath:
        return self._child("/".join([self.key, *(p.strip("/") for p in parts)]))

    @property
    def name(self) -> str:
        return PurePosixPath(self.key).name

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.key).suffix

    @property
    def stem(self) -> str:
        return PurePosixPath(self.key).stem

    @property
    def parent(self) -> ObjectPath:
        return self._child(str(PurePosixPath(self.key).parent))

    def with_suffix(self, suffix: str) -> ObjectPath:
        return self._child(str(PurePosixPath(self.key).with_suffix(suffix)))

    def relative_to(self, other: ObjectPath) -> PurePosixPath:
        return PurePosixPath(self.key).relative_to(other.key)

    def as_posix(self) -> str:
        return str(self)

    def resolve(self) -> ObjectPath:
        return self

    # -- what is there ------------------------------------------------------------------

    @property
    def fs(self) -> Any:
        return filesystem(self.protocol)

    def exists(self) -> bool:
        with as_oserror(self):
            return bool(self.fs.exists(self.key))

    def is_file(self) -> bool:
        with as_oserror(self):
            return bool(self.fs.isfile(self.key))

    def is_dir(self) -> bool:
        with as_oserror(self):
            return bool(self.fs.isdir(self.key))

    def is_symlink(self) -> bool:
        return False  # object storage has no links

    def stat(self) -> os.stat_result:
        """Size and kind (the readers check both before reading)."""
        with as_oserror(self):
            info = self.fs.info(self.key)
        mode = stat.S_IFDIR if info.get("type") == "directory" else stat.S_IFREG
        return os.stat_result((mode | 0o644, 0, 0, 1, 0, 0, int(info.get("size") or 0), 0, 0, 0))

    def files(self) -> list[ObjectPath]:
        """Every object under this prefix, in one listing (paged by the backend)."""
        with as_oserror(self):
            keys = sorted(self.fs.find(self.key, withdirs=False))
        return [self._child(key) for key in keys]

    def rglob(self, pattern: str) -> Iterator[ObjectPath]:
        """Objects under this prefix whose name matches `pattern` ("*.json")."""
        return (path for path in self.files() if PurePosixPath(path.name).match(pattern))

    # -- reading and writing ----------------------------------------------------------

    def open(
        self, mode: str = "r", encoding: str | None = None, newline: str | None = None
    ) -> IO[Any]:
        """A streaming handle for reading: byte ranges are fetched as needed, never the
        whole object; a backend's own errors come out as OSError, as a file's would."""
        if mode.replace("t", "").replace("b", "") != "r":
            raise ValueError(f"ObjectPath.open reads only (mode {mode!r}); use write_bytes")
        with as_oserror(self):
            raw = _Reader(self, self.fs.open(self.key, "rb"))
        buffered = io.BufferedReader(raw, buffer_size=1 << 20)
        if "b" in mode:
            return buffered
        return io.TextIOWrapper(buffered, encoding=encoding or "utf-8", newline=newline)

    def read_bytes(self) -> bytes:
        with as_oserror(self):
            return bytes(self.fs.cat_file(self.key))

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def write_bytes(self, data: bytes, *, exclusive: bool = False) -> None:
        """The whole object in one request: it appears whole or not at all. With
        `exclusive`, only if no object has the name yet (S3: a PUT with If-None-Match: *),
        else FileExistsError."""
        with as_oserror(self):
            self.fs.pipe_file(self.key, data, mode="create" if exclusive else "overwrite")

    def upload(self, local: Path) -> None:
        """A local file's content as this object; it appears only once complete (a large
        file goes up in parts that S3 joins at the end)."""
        with as_oserror(self):
            self.fs.put_file(str(local), self.key)

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            with as_oserror(self):
                self.fs.rm_file(self.key)
        except FileNotFoundError:
            if not missing_ok:
                raise

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Object storage has no folders: a prefix exists once an object is under it."""


StoragePath = Path | ObjectPath


def read_objects(paths: list[ObjectPath]) -> dict[ObjectPath, bytes]:
    """The content of each of `paths` that exists (of one protocol), fetched together: the
    backend runs the requests concurrently (s3fs: in batches), one round trip for all."""
    if not paths:
        return {}
    fs = paths[0].fs
    by_key = {fs._strip_protocol(path.key): path for path in paths}  # as the backend names them
    with as_oserror(paths[0]):
        found = fs.cat(list(by_key), on_error="omit")
    return {by_key[fs._strip_protocol(key)]: bytes(data) for key, data in found.items()}


@contextmanager
def as_oserror(path: ObjectPath) -> Iterator[None]:
    """A backend's own exceptions (botocore's EndpointConnectionError, ...) as OSError,
    so that a failed request fails one article, or stops the run with exit 4, as a file
    system error does; each names the object."""
    try:
        yield
    except (OSError, Id2enError):
        raise
    except Exception as exc:
        raise OSError(errno.EIO, f"{type(exc).__name__}: {exc}", str(path)) from exc


class _Reader(io.RawIOBase):
    """The backend's file, read through as_oserror."""

    def __init__(self, path: ObjectPath, handle: Any) -> None:
        self.path, self.handle = path, handle

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with as_oserror(self.path):
            data = self.handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        with as_oserror(self.path):
            return int(self.handle.seek(offset, whence))

    def tell(self) -> int:
        return int(self.handle.tell())

    def close(self) -> None:
        if not self.closed:
            self.handle.close()
        super().close()
