"""The landing-zone contract against a local HTTP server: atomic, verified, recorded, fetched once."""

import json

import pytest
from conftest import RELEASE, release_members, trade_csv, write_zip
from werkzeug import Response

from dagster_project.sources import baci, landing


@pytest.fixture
def release_bytes(tmp_path):
    members = release_members({2019: trade_csv(2019, [(842, 156, "854231", 1, 1)])})
    return write_zip(tmp_path / "served" / RELEASE.zip_name, members).read_bytes()


def ensure(httpserver, landing_dir, refresh=False):
    return baci.ensure_release(landing_dir, RELEASE, httpserver.url_for("/baci"), (2019,), refresh=refresh)


def test_download_lands_verifies_and_records(httpserver, tmp_path, release_bytes):
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_data(release_bytes)
    landed, downloaded = ensure(httpserver, tmp_path / "raw")
    assert downloaded and landed.path.read_bytes() == release_bytes
    manifest = json.loads((tmp_path / "raw" / "manifest.json").read_text())
    entry = manifest[RELEASE.zip_name]
    assert entry["size"] == len(release_bytes) and entry["sha256"] == landing.sha256_of(landed.path)
    assert entry["url"].endswith(f"/baci/{RELEASE.zip_name}") and entry["synthetic"] is False and entry["fetched_at"]
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == [RELEASE.zip_name, "manifest.json"]


def test_a_verified_file_is_not_downloaded_again_unless_refreshed(httpserver, tmp_path, release_bytes):
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_data(release_bytes)
    ensure(httpserver, tmp_path / "raw")
    _, downloaded = ensure(httpserver, tmp_path / "raw")
    # Each download asks first for a range; this server answers with the whole file, left unread, then sent again.
    assert not downloaded and len(httpserver.log) == 2
    _, downloaded = ensure(httpserver, tmp_path / "raw", refresh=True)
    assert downloaded and len(httpserver.log) == 4


def test_an_altered_file_is_downloaded_again(httpserver, tmp_path, release_bytes):
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_data(release_bytes)
    landed, _ = ensure(httpserver, tmp_path / "raw")
    landed.path.write_bytes(release_bytes[:-1] + b"x")
    _, downloaded = ensure(httpserver, tmp_path / "raw")
    assert downloaded and landed.path.read_bytes() == release_bytes


def test_a_synthetic_release_in_the_landing_folder_does_not_stand_in_for_a_download(httpserver, tmp_path, release_bytes):
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_data(release_bytes)
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / RELEASE.zip_name).write_bytes(release_bytes)
    landing.land_local_file(tmp_path / "raw" / RELEASE.zip_name, "sample://tradedep/" + RELEASE.zip_name, synthetic=True)
    landed, downloaded = ensure(httpserver, tmp_path / "raw")
    assert downloaded and not landed.synthetic and len(httpserver.log) == 2  # a range asked, the whole file sent


def test_an_html_error_page_is_not_landed(httpserver, tmp_path):
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_data("<html>Maintenance</html>", content_type="text/html")
    with pytest.raises(landing.DownloadError, match="CEPII BACI.*not valid.*not a readable zip"):
        ensure(httpserver, tmp_path / "raw")
    assert not (tmp_path / "raw" / RELEASE.zip_name).exists()
    assert list((tmp_path / "raw").iterdir()) == []  # no partial download either
    assert not (tmp_path / "raw" / "manifest.json").exists()


def test_a_zip_without_the_configured_years_is_not_landed(httpserver, tmp_path, release_bytes):
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_data(release_bytes)
    with pytest.raises(landing.DownloadError, match="BACI_HS12_Y2020_V202501.csv"):
        baci.ensure_release(tmp_path / "raw", RELEASE, httpserver.url_for("/baci"), (2019, 2020))
    assert not (tmp_path / "raw" / RELEASE.zip_name).exists()


def test_server_errors_are_retried_then_succeed(httpserver, tmp_path, release_bytes):
    path = f"/baci/{RELEASE.zip_name}"
    httpserver.expect_ordered_request(path).respond_with_response(Response("busy", status=503, headers={"Retry-After": "0"}))
    httpserver.expect_ordered_request(path).respond_with_data(release_bytes)  # a range asked, the whole file sent
    httpserver.expect_ordered_request(path).respond_with_data(release_bytes)
    landed, downloaded = ensure(httpserver, tmp_path / "raw")
    assert downloaded and landed.size == len(release_bytes) and len(httpserver.log) == 3


def test_persistent_server_errors_fail_with_the_url(httpserver, tmp_path):
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_response(
        Response("busy", status=503, headers={"Retry-After": "0"})
    )
    with pytest.raises(landing.DownloadError, match=r"CEPII BACI: http://.*BACI_HS12_V202501.zip failed after 3 attempts: HTTP 503"):
        ensure(httpserver, tmp_path / "raw")
    assert len(httpserver.log) == 3
    assert not (tmp_path / "raw" / RELEASE.zip_name).exists()


def test_not_found_fails_at_once(httpserver, tmp_path):
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_data("no", status=404)
    with pytest.raises(landing.DownloadError, match="CEPII BACI: http://.* answered HTTP 404"):
        ensure(httpserver, tmp_path / "raw")
    assert len(httpserver.log) == 1


def test_download_progress_is_logged_with_sizes_share_and_rate(fake_time):
    lines = []
    progress = landing.logged_progress(lines.append, "BACI_HS12_V202501.zip")
    fake_time.now += 1
    progress(1 << 20, 4 << 20)  # within the interval: not logged
    fake_time.now += landing.PROGRESS_SECONDS
    progress(2 << 20, 4 << 20)  # an interval later: logged
    fake_time.now += 1
    progress(4 << 20, 4 << 20)  # complete: always logged
    assert lines == ["BACI_HS12_V202501.zip: 2.0 MB of 4.0 MB (50%) at 341.3 KB/s",
                     "BACI_HS12_V202501.zip: 4.0 MB of 4.0 MB (100%) at 585.1 KB/s"]
    assert landing.human_bytes(1536) == "1.5 KB" and landing.human_bytes(3 * 1024**4) == "3.0 TB"


def test_the_throttle_spaces_calls_from_the_end_of_one_to_the_start_of_the_next(fake_time):
    throttle = landing.Throttle(6.0)
    with throttle.call():  # the first call does not wait
        fake_time.now += 2.0  # and lasts 2 s
    with throttle.call():  # 6 s after the end of the first
        pass
    fake_time.now += 4.0
    with throttle.call():  # 4 s have passed already: 2 s more
        pass
    fake_time.now += 30.0
    with pytest.raises(RuntimeError), throttle.call():  # long after: no wait; a failed call counts as a call
        raise RuntimeError("HTTP 503")
    with throttle.call():
        pass
    assert fake_time.sleeps == [6.0, 2.0, 6.0]


def test_the_fetcher_reuses_verified_real_files_and_downloads_the_rest_spaced_by_the_throttle(
    httpserver, tmp_path, fake_time
):
    httpserver.expect_request("/a.csv").respond_with_data("real a\n")
    httpserver.expect_request("/b.csv").respond_with_data("real b\n")
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "b.csv").write_text("synthetic b\n")
    landing.land_local_file(folder / "b.csv", "sample://b.csv", synthetic=True)
    wanted = [(httpserver.url_for("/a.csv"), folder / "a.csv"), (httpserver.url_for("/b.csv"), folder / "b.csv")]

    def land(refresh=False):
        with landing.Fetcher("Test source", refresh=refresh, throttle_seconds=5.0) as fetcher:
            return [fetcher.fetch(url, path, verify=lambda candidate: None) for url, path in wanted]

    first = land()  # a is not landed, b is the sample: both downloaded, 5 s apart
    assert [file.path.read_text() for file in first] == ["real a\n", "real b\n"] and len(httpserver.log) == 2
    assert not any(file.synthetic for file in first) and fake_time.sleeps == [5.0]
    assert land() == first and len(httpserver.log) == 2 and fake_time.sleeps == [5.0]  # reused: no call, no wait
    land(refresh=True)
    assert len(httpserver.log) == 4 and fake_time.sleeps == [5.0, 5.0]
