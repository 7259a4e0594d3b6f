"""The landing-zone contract, shared by every source.

A download goes to a temporary name in the target folder and is renamed only when complete and
verified. Each landed file is recorded in the folder's manifest.json (URL without secrets, size,
sha256, time, whether it is synthetic). A present file whose size and sha256 match its manifest
entry is not fetched again unless a refresh is asked for (Fetcher: the one reuse-or-download loop
of the API sources, with the one throttle that spaces their calls).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TypeVar

import httpx

from dagster_project.files import atomic_path, write_atomic
from dagster_project.sources import zip_ranges

MANIFEST_NAME = "manifest.json"
CHUNK_BYTES = 1 << 20
RETRY_STATUSES = {429, 500, 502, 503, 504}
RETRY_ATTEMPTS = 3
BACKOFF_SECONDS = 2.0  # the wait before the first retry without Retry-After; it doubles at each retry
# A server asking to wait longer than this (e.g. a daily quota) fails the download at once, saying so.
MAX_RETRY_AFTER_SECONDS = 300.0
PROGRESS_SECONDS = 5.0  # how often a download's progress is logged

Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)
T = TypeVar("T")


class DownloadError(RuntimeError):
    """A download failed; the message names the source, the URL and the cause."""


@dataclass(frozen=True)
class LandedFile:
    path: Path
    url: str
    size: int
    sha256: str
    fetched_at: str
    synthetic: bool
    members: tuple[str, ...] | None = None  # a zip of which only these members were fetched (zip_ranges); None: all

    def manifest_entry(self) -> dict[str, object]:
        entry = asdict(self)
        entry.pop("path")
        if self.members is None:
            entry.pop("members")
        return entry

    def holds(self, members: list[str]) -> bool:
        """Whether the file holds these members of its zip (a whole download holds them all)."""
        return self.members is None or set(members) <= set(self.members)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, dict[str, object]]:
    path = folder / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DownloadError(f"{path} is not valid JSON ({error}); delete it to re-verify the landing zone") from error


def record(landed: LandedFile) -> None:
    """Add or replace the file's entry in its folder's manifest (written atomically)."""
    folder = landed.path.parent
    manifest = read_manifest(folder)
    manifest[landed.path.name] = landed.manifest_entry()
    write_atomic(folder / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8"))


def recorded_file(path: Path) -> LandedFile | None:
    """The manifest entry of a present file of the recorded size (a cheap check), else None."""
    entry = read_manifest(path.parent).get(path.name)
    if entry is None or not path.exists() or path.stat().st_size != entry["size"]:
        return None
    return LandedFile(path=path, **entry)  # type: ignore[arg-type]


def landed_file(path: Path) -> LandedFile | None:
    """The manifest entry of a present file whose size and sha256 still match it, else None."""
    recorded = recorded_file(path)
    if recorded is None or sha256_of(path) != recorded.sha256:
        return None
    return recorded


def reusable(path: Path, refresh: bool) -> LandedFile | None:
    """The real file landed at path while it verifies, unless a refresh is asked for; None when it must be
    downloaded. The synthetic sample never stands in for a download."""
    present = None if refresh else landed_file(path)
    return present if present is not None and not present.synthetic else None


def land_local_file(path: Path, url: str, synthetic: bool) -> LandedFile:
    """Record a file already written (atomically) into the landing zone, e.g. the sample."""
    landed = LandedFile(
        path=path,
        url=url,
        size=path.stat().st_size,
        sha256=sha256_of(path),
        fetched_at=_now(),
        synthetic=synthetic,
    )
    record(landed)
    return landed


def new_client() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=httpx.Timeout(60.0, connect=15.0))


def download(
    url: str,
    destination: Path,
    source: str,
    verify: Callable[[Path], None],
    client: httpx.Client | None = None,
    progress: Progress | None = None,
    headers: dict[str, str] | None = None,
) -> LandedFile:
    """Download url to destination atomically, verify it, and record it in the manifest.

    Retries transport errors (reset, timeout, a body cut short), 429 and 5xx up to RETRY_ATTEMPTS times
    with exponential backoff, honouring Retry-After up to MAX_RETRY_AFTER_SECONDS. Any other status fails
    at once. `verify` raises if the complete file is not what the source serves.
    Secrets go in `headers` (e.g. an API key): they are sent, never logged nor recorded.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    own_client = client is None
    client = client or new_client()
    try:
        with atomic_path(destination) as temporary:
            size, digest = _stream_with_retries(client, url, temporary, source, progress, headers or {})
            try:
                verify(temporary)
            except Exception as error:
                raise DownloadError(f"{source}: the file downloaded from {url} is not valid: {error}") from error
    finally:
        if own_client:
            client.close()
    landed = LandedFile(path=destination, url=url, size=size, sha256=digest, fetched_at=_now(), synthetic=False)
    record(landed)
    return landed


def download_members(url: str, destination: Path, members: list[str], source: str) -> LandedFile | None:
    """Land only these members of the remote zip at url, fetched with range requests (retried as downloads are)
    and each checked (CRC-32, size), and record them in the manifest; None when the server does not serve ranges
    (download it whole)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with new_client() as client:
        def fetch(byte_range: str) -> tuple[bytes, int] | None:
            return _with_retries(source, url, lambda: _range(client, url, byte_range))

        try:
            zip_ranges.fetch_members(fetch, members, destination)
        except zip_ranges.RangesUnsupported:
            return None
        except (zipfile.BadZipFile, KeyError) as error:
            raise DownloadError(f"{source}: fetching {', '.join(members)} from {url} failed: {error}") from error
    landed = LandedFile(path=destination, url=url, size=destination.stat().st_size, sha256=sha256_of(destination),
                        fetched_at=_now(), synthetic=False, members=tuple(members))
    record(landed)
    return landed


def _range(client: httpx.Client, url: str, byte_range: str) -> tuple[bytes, int] | None:
    """One range of url and the file's size; None when the server answers with the whole file (HTTP 200), which
    is not read."""
    try:
        with client.stream("GET", url, headers={"Range": byte_range}) as response:
            if response.status_code in RETRY_STATUSES:
                raise _Retryable(f"HTTP {response.status_code}", _retry_after(response))
            if response.status_code == 200:
                return None
            content_range = response.headers.get("content-range", "")
            if response.status_code != 206 or not re.fullmatch(r"bytes \d+-\d+/\d+", content_range):
                raise DownloadError(f"{url} answered HTTP {response.status_code} to a range request ({byte_range})")
            body = response.read()
    except httpx.TransportError as error:
        raise _Retryable(f"{type(error).__name__}: {error}") from error
    first, last, total = map(int, re.findall(r"\d+", content_range))
    if len(body) != last - first + 1:
        raise _Retryable(f"body cut short: {len(body)} of {last - first + 1} bytes")
    return body, total


def _stream_with_retries(
    client: httpx.Client, url: str, target: Path, source: str, progress: Progress | None, headers: dict[str, str]
) -> tuple[int, str]:
    return _with_retries(source, url, lambda: _stream_to(client, url, target, progress, headers))


def _with_retries(source: str, url: str, call: Callable[[], T]) -> T:
    """call(), again after a backoff (or the Retry-After asked) while it raises _Retryable, RETRY_ATTEMPTS times
    at most; DownloadError names the source."""
    attempt = 1
    while True:
        try:
            return call()
        except DownloadError as error:
            raise DownloadError(f"{source}: {error}") from None
        except _Retryable as error:
            if error.retry_after is not None and error.retry_after > MAX_RETRY_AFTER_SECONDS:
                raise DownloadError(
                    f"{source}: {url} answered {error.cause} and asks to wait {error.retry_after:.0f} s before "
                    f"trying again (more than {MAX_RETRY_AFTER_SECONDS:.0f} s): try again later"
                ) from None
            if attempt == RETRY_ATTEMPTS:
                raise DownloadError(f"{source}: {url} failed after {RETRY_ATTEMPTS} attempts: {error.cause}") from None
            time.sleep(error.retry_after if error.retry_after is not None else BACKOFF_SECONDS * 2 ** (attempt - 1))
            attempt += 1


class Throttle:
    """Spaces network calls: at least `seconds` from the end of one call to the start of the next (the APIs'
    request limits). A file reused from the landing zone makes no call, so it never waits."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self._last_call: float | None = None

    @contextmanager
    def call(self) -> Iterator[None]:
        if self._last_call is not None:
            wait = self.seconds - (time.monotonic() - self._last_call)
            if wait > 0:
                time.sleep(wait)
        try:
            yield
        finally:  # a failed call was a call too
            self._last_call = time.monotonic()


class Fetcher:
    """Lands the files of one source over one HTTP client: a verified real file already landed is reused
    (unless refresh), any other is downloaded, the downloads spaced by the throttle. The synthetic sample
    never stands in for a download. Secrets go in `headers`: sent, never logged nor recorded."""

    def __init__(
        self, source: str, refresh: bool = False, throttle_seconds: float = 0.0, headers: dict[str, str] | None = None
    ) -> None:
        self.source = source
        self.refresh = refresh
        self._throttle = Throttle(throttle_seconds)
        self._client = new_client()
        self._headers = headers

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._client.close()

    def fetch(self, url: str, path: Path, verify: Callable[[Path], None]) -> LandedFile:
        present = reusable(path, self.refresh)
        if present is not None:
            return present
        with self._throttle.call():
            return download(url, path, self.source, verify, client=self._client, headers=self._headers)


class _Retryable(Exception):
    def __init__(self, cause: str, retry_after: float | None = None):
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after


def _stream_to(
    client: httpx.Client, url: str, target: Path, progress: Progress | None, headers: dict[str, str]
) -> tuple[int, str]:
    digest = hashlib.sha256()
    written = 0
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code in RETRY_STATUSES:
                raise _Retryable(f"HTTP {response.status_code}", _retry_after(response))
            if response.status_code != 200:
                raise DownloadError(f"{url} answered HTTP {response.status_code}")
            expected = int(response.headers["content-length"]) if "content-length" in response.headers else None
            with target.open("wb") as handle:
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    handle.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    if progress:
                        progress(written, expected)
            # Content-Length counts the bytes on the wire, compressed when the server gzips the answer.
            received = response.num_bytes_downloaded
    except httpx.TransportError as error:
        raise _Retryable(f"{type(error).__name__}: {error}") from error
    if expected is not None and received != expected:
        raise _Retryable(f"body cut short: {received} of {expected} bytes")
    return written, digest.hexdigest()


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks to wait: Retry-After as seconds or as an HTTP date; None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def logged_progress(log: Callable[[str], None], name: str) -> Progress:
    """A Progress callback that logs size, share and rate of a download every PROGRESS_SECONDS, and when done."""
    started = last = time.monotonic()

    def report(done: int, total: int | None) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_SECONDS and done != total:
            return
        last = now
        rate = done / max(now - started, 1e-9)
        of_total = f" of {human_bytes(total)} ({done / total:.0%})" if total else ""
        log(f"{name}: {human_bytes(done)}{of_total} at {human_bytes(rate)}/s")

    return report


def human_bytes(count: float) -> str:
    units = ("B", "KB", "MB", "GB", "TB")
    index = 0
    while count >= 1024 and index < len(units) - 1:
        count, index = count / 1024, index + 1
    return f"{count:.1f} {units[index]}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
