"""Shared fixtures: small hand-written BACI release zips, settings in a temporary data directory."""

import zipfile
from pathlib import Path

import pytest

from dagster_project.settings import load_settings
from dagster_project.sources.baci import Release

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference"
RELEASE = Release("HS12", "V202501")
HEADER = "t,i,j,k,v,q\n"


def trade_csv(year: int, rows: list[tuple]) -> str:
    return HEADER + "".join(",".join(str(value) for value in row) + "\n" for row in [(year, *r) for r in rows])


COUNTRIES_CSV = (
    "country_code,country_name,country_iso2,country_iso3\n"
    "156,China,CN,CHN\n"
    "276,Germany,DE,DEU\n"
    "384,CÃ´te d'Ivoire,CI,CIV\n"
    "516,Namibia,,NAM\n"
    "842,USA,US,USA\n"
)
PRODUCTS_CSV = 'code,description\n010121,"Horses: live, pure-bred breeding animals"\n854231,Processors and controllers\n'


def write_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def release_members(trade: dict[int, str]) -> dict[str, str]:
    members = {RELEASE.countries_member: COUNTRIES_CSV, RELEASE.products_member: PRODUCTS_CSV}
    members.update({RELEASE.trade_member(year): content for year, content in trade.items()})
    return members


@pytest.fixture
def settings(tmp_path):
    return load_settings({"TRADEDEP_DATA_DIR": str(tmp_path / "data"), "TRADEDEP_YEARS": "2019-2020"})
