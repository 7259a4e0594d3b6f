"""Network faults, for every source, against a local HTTP server.

Each source (the BACI release zip, Comtrade, OECD TiVA, World Bank) meets the same faults: 429 with
and without Retry-After, 500/502/503, a connection reset, a timeout, a body cut short, an HTML page
with status 200, a malformed answer, an empty body. What is worth retrying is retried a bounded
number of times with backoff (recorded, never slept); anything else fails at once. A failure names
the source, the URL (never the API key) and the cause, and leaves the landing zone as it was.
"""

import gzip
import logging
import os
import re
import socket
import struct
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from conftest import RELEASE, release_members, trade_csv, write_zip
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from dagster_project.sample import comtrade_sample, oecd_tiva_sample, worldbank_sample
from dagster_project.sources import baci, comtrade, landing, oecd_tiva, worldbank

KEY = "net-fault-key-8d1e0b-SECRET"
BACKOFF = landing.BACKOFF_SECONDS  # the waits are recorded, not slept: 2 s then 4 s without Retry-After
CLIENT_TIMEOUT = 1.0  # seconds: the timeout fault costs this much per attempt; less fails good answers on a busy machine
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Back soon</body></html>"
COMTRADE_REQUEST = comtrade.plan_requests(["854231"], [2023], keyed=True)[0]  # China's imports from every partner
TIVA_REQUEST = oecd_tiva.TivaRequest("PROD", ("CHN", "W"), ("C", "C26"), start_year=2019, end_year=2020)
WDI_INDICATOR = "NV.IND.MANF.CD"


@dataclass(frozen=True)
class Source:
    name: str  # how failure messages name it
    good: Callable[[Path], bytes]  # a valid answer, in the source's real format
    malformed: bytes  # the source's format, broken
    causes: dict[str, str]  # what the message says of an HTML page, a malformed answer, an empty body
    fetch: Callable[[str, Path], list[landing.LandedFile]]  # (base URL, landing folder)


def baci_zip(tmp_path: Path) -> bytes:
    members = release_members({2019: trade_csv(2019, [(842, 156, "854231", 1, 1)])})
    return write_zip(tmp_path / "served" / RELEASE.zip_name, members).read_bytes()


SOURCES = [
    Source(
        "CEPII BACI",
        baci_zip,
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40,  # a zip cut after its first header
        {"html": "not a readable zip", "malformed": "not a readable zip", "empty": "not a readable zip"},
        lambda base, folder: [baci.ensure_release(folder, RELEASE, f"{base}/baci", (2019,))[0]],
    ),
    Source(
        "UN Comtrade",
        lambda _: next(comtrade_sample.answer_bodies([COMTRADE_REQUEST], "HS12")),
        b'{"elapsedTime": "0.1 secs", "count": 1, "data": [{"refYear": 2023,',
        {"html": "HTML page", "malformed": "not valid JSON", "empty": "not valid JSON"},
        lambda base, folder: comtrade.fetch([COMTRADE_REQUEST], folder, base, KEY, throttle_seconds=0),
    ),
    Source(
        "OECD TiVA",
        lambda _: oecd_tiva_sample.sample_csv(TIVA_REQUEST).encode(),
        b'{"meta": {"schema": "sdmx-json"}, "data": {"dataSets": []}}',  # the API changed its format
        {"html": "HTML page", "malformed": "line 1 lacks the column", "empty": "empty"},
        lambda base, folder: oecd_tiva.fetch([TIVA_REQUEST], folder, base, throttle_seconds=0),
    ),
    Source(
        "World Bank WDI",
        lambda _: worldbank_sample.indicator_pages(WDI_INDICATOR, 2020, 2022)[0],
        b'[{"page": 1, "pages": 1, "per_page": 1000, "total": 9}, [{"indicator": ',
        {"html": "HTML or XML page", "malformed": "not valid JSON", "empty": "empty"},
        lambda base, folder: worldbank.fetch(folder, base, 2020, 2022, indicators=[WDI_INDICATOR]),
    ),
]
SOURCE_IDS = [source.name for source in SOURCES]


def range_probes(source: Source) -> int:
    """BACI asks first for the zip's last bytes (a range request, to fetch only the members the years need); these
    servers serve no ranges and answer with the whole file, which is left unread and then downloaded whole."""
    return 1 if source.name == "CEPII BACI" else 0


def range_probe_answer(faults: "FaultServer", source: Source, good: bytes) -> list:
    """The answer to BACI's range probe, the whole file, so that the faults that follow meet the download."""
    return [faults.body(good)] * range_probes(source)

# ---------------------------------------------------------------- the faults

Handler = Callable[[Request], Response]


class FaultServer:
    """A local server answering each request with the next handler of a script (the last one repeats)."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.released = threading.Event()  # set at teardown: hung requests end
        self.requests: list[Request] = []
        self.script: list[Handler] = []
        self._keep: list[socket.socket] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def serve(self, *handlers: Handler) -> None:
        self.script = list(handlers)
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._dispatch)

    def _dispatch(self, request: Request) -> Response:
        self.requests.append(request)
        return self.script[min(len(self.requests), len(self.script)) - 1](request)

    # Faults, as handlers.
    @staticmethod
    def status(code: int, retry_after: str | None = None) -> Handler:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return lambda request: Response(f"HTTP {code}", status=code, headers=headers)

    @staticmethod
    def body(content: bytes, status: int = 200, **headers: str) -> Handler:
        return lambda request: Response(content, status=status, headers=headers)

    @staticmethod
    def cut_short(content: bytes) -> Handler:
        # An iterable body keeps the declared Content-Length; the server closes after 10 bytes.
        return lambda request: Response(iter([content[:10]]), headers={"Content-Length": str(len(content))})

    def reset(self, request: Request) -> Response:
        """Abort the connection with a TCP reset (RST) instead of an answer."""
        connection: socket.socket = request.environ["werkzeug.socket"]
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # Replace the connection's descriptor by a closed socket pair: the real socket closes (RST)
        # and the server's own writes fail quietly as a dropped connection.
        spare, peer = socket.socketpair()
        os.dup2(spare.fileno(), connection.fileno())
        spare.close()
        peer.close()
        return Response("never sent")

    def hang(self, request: Request) -> Response:
        """Answer nothing until the test ends: the client's read times out."""
        self.released.wait(10)
        return Response("too late")


@pytest.fixture(scope="module")
def http_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)  # a hung request blocks no other
    server.start()
    yield server
    server.stop()


@pytest.fixture
def faults(http_server):
    fault_server = FaultServer(http_server)
    yield fault_server
    fault_server.released.set()
    http_server.clear()


@pytest.fixture
def waits(fake_time):
    """The backoff waits landing.download asks for, recorded instead of slept."""
    return fake_time.sleeps


@pytest.fixture
def short_timeout(monkeypatch):
    """Every download's HTTP client times out after CLIENT_TIMEOUT, so a hung server costs little."""
    monkeypatch.setattr(landing, "new_client", lambda: httpx.Client(timeout=CLIENT_TIMEOUT))


@pytest.fixture
def folder(tmp_path):
    """A landing folder already holding an earlier download, recorded in its manifest."""
    path = tmp_path / "raw" / "source"
    path.mkdir(parents=True)
    (path / "earlier.csv").write_text("an earlier download\n")
    landing.land_local_file(path / "earlier.csv", url="https://example.org/earlier.csv", synthetic=False)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


# Retryable faults: (handler factory, wait after a first fault, cause in the final message).
RETRYABLE: dict[str, tuple[Callable[[FaultServer, bytes], Handler], float, str]] = {
    "429-retry-after": (lambda f, good: f.status(429, "7"), 7.0, "HTTP 429"),
    "429": (lambda f, good: f.status(429), BACKOFF, "HTTP 429"),
    "500": (lambda f, good: f.status(500), BACKOFF, "HTTP 500"),
    "502": (lambda f, good: f.status(502), BACKOFF, "HTTP 502"),
    "503": (lambda f, good: f.status(503), BACKOFF, "HTTP 503"),
    "connection-reset": (lambda f, good: f.reset, BACKOFF, r"(Read|Write|RemoteProtocol)Error"),
    "timeout": (lambda f, good: f.hang, BACKOFF, "ReadTimeout"),
    "body-cut-short": (lambda f, good: f.cut_short(good), BACKOFF, r"received 10 bytes, expected \d+|cut short"),
}


@pytest.mark.parametrize("fault", RETRYABLE)
@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_a_passing_fault_is_retried_after_a_backoff_and_the_answer_lands(faults, waits, short_timeout, folder, tmp_path,
                                                                          source, fault):
    make, wait, _ = RETRYABLE[fault]
    good = source.good(tmp_path)
    faults.serve(*range_probe_answer(faults, source, good), make(faults, good), faults.body(good))
    [landed] = source.fetch(faults.base, folder)
    assert landed.path.read_bytes() == good and len(faults.requests) == 2 + range_probes(source)
    assert waits == [wait]
    manifest = landing.read_manifest(folder)
    assert set(manifest) == {"earlier.csv", landed.path.name} and manifest[landed.path.name]["size"] == len(good)
    files = snapshot(folder)
    assert sorted(files) == sorted(["earlier.csv", "manifest.json", landed.path.name])  # no temp file
    assert not any(KEY.encode() in content for content in files.values())


@pytest.mark.parametrize("fault", RETRYABLE)
@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_a_lasting_fault_fails_after_three_attempts_naming_source_url_and_cause(
    faults, waits, short_timeout, folder, tmp_path, caplog, source, fault
):
    make, wait, cause = RETRYABLE[fault]
    good = source.good(tmp_path)
    faults.serve(*range_probe_answer(faults, source, good), make(faults, good))
    before = snapshot(folder)
    with caplog.at_level(logging.DEBUG), pytest.raises(landing.DownloadError) as caught:
        source.fetch(faults.base, folder)
    message = str(caught.value)
    pattern = rf"{source.name}: {re.escape(faults.base)}/\S+ failed after 3 attempts: .*{cause}"
    assert re.match(pattern, message), message
    assert len(faults.requests) == 3 + range_probes(source) and waits == [wait, wait if fault == "429-retry-after" else 2 * wait]
    assert snapshot(folder) == before  # nothing partial, no temp file, the manifest unchanged
    assert_key_never_shown(caught.value, caplog.text)


@pytest.mark.parametrize("answer", ["html", "malformed", "empty"])
@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_a_bad_answer_with_status_200_fails_at_once_and_lands_nothing(faults, waits, short_timeout, folder, caplog, source,
                                                                      answer):
    body = {"html": HTML_PAGE, "malformed": source.malformed, "empty": b""}[answer]
    faults.serve(faults.body(body, content_type="text/html" if answer == "html" else "application/octet-stream"))
    before = snapshot(folder)
    with caplog.at_level(logging.DEBUG), pytest.raises(landing.DownloadError) as caught:
        source.fetch(faults.base, folder)
    message = str(caught.value)
    cause = source.causes[answer]
    pattern = rf"{source.name}: the file downloaded from {re.escape(faults.base)}/\S+ is not valid: .*{cause}"
    assert re.match(pattern, message), message
    assert len(faults.requests) == 1 + range_probes(source) and waits == []  # the same answer again: not retried
    assert snapshot(folder) == before
    assert_key_never_shown(caught.value, caplog.text)


@pytest.mark.parametrize("code", [401, 403, 404])
@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_a_client_error_fails_at_once(faults, waits, short_timeout, folder, source, code):
    faults.serve(faults.status(code))
    before = snapshot(folder)
    pattern = rf"{source.name}: {re.escape(faults.base)}/\S+ answered HTTP {code}"
    with pytest.raises(landing.DownloadError, match=pattern):
        source.fetch(faults.base, folder)
    assert len(faults.requests) == 1 and waits == [] and snapshot(folder) == before


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_a_retry_after_beyond_the_limit_fails_at_once_saying_how_long(faults, waits, short_timeout, folder, source):
    faults.serve(faults.status(429, "86400"))  # e.g. a daily quota
    with pytest.raises(landing.DownloadError, match=rf"{source.name}: .* HTTP 429 and asks to wait 86400 s"):
        source.fetch(faults.base, folder)
    assert len(faults.requests) == 1 and waits == []


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_a_gzip_encoded_answer_lands_decoded(faults, waits, short_timeout, folder, tmp_path, source):
    """Content-Length counts the compressed bytes: a complete gzip answer is not mistaken for a cut one."""
    good = source.good(tmp_path)
    faults.serve(faults.body(gzip.compress(good), **{"Content-Encoding": "gzip"}))
    [landed] = source.fetch(faults.base, folder)
    assert landed.path.read_bytes() == good and len(faults.requests) == 1 + range_probes(source) and waits == []


def test_retry_after_as_an_http_date_is_honoured():
    when = datetime.now(UTC) + timedelta(seconds=30)
    response = httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    assert 25 <= landing._retry_after(response) <= 30
    assert landing._retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None
    assert landing._retry_after(httpx.Response(429)) is None


def test_the_comtrade_key_is_sent_but_never_shown(faults, waits, short_timeout, folder):
    faults.serve(faults.status(401))
    with pytest.raises(landing.DownloadError) as caught:
        comtrade.fetch([COMTRADE_REQUEST], folder, faults.base, KEY, throttle_seconds=0)
    assert faults.requests[0].headers[comtrade.KEY_HEADER] == KEY and KEY not in faults.requests[0].url
    assert_key_never_shown(caught.value, "")


def assert_key_never_shown(error: BaseException, log_text: str) -> None:
    """Not in the message, the chained causes, the traceback nor the log."""
    shown = "".join(traceback.format_exception(error)) + log_text + repr(error.__cause__) + repr(error.__context__)
    assert KEY not in shown
