"""The one settings object: every path, URL, revision and year range comes from here.

Values are read from environment variables (documented in README.md and .env.example) with
defaults. No other module reads os.environ for configuration.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
# Console scripts of this environment (dbt, dagster), found beside its Python even when it is not activated.
BIN_DIR = Path(sys.executable).parent

# First year each HS revision covers in BACI (each revision re-expresses every year from its start).
HS_REVISION_FIRST_YEAR = {"HS92": 1995, "HS96": 1996, "HS02": 2002, "HS07": 2007, "HS12": 2012, "HS17": 2017, "HS22": 2022}
DEFAULT_BACI_URL = "https://www.cepii.fr/DATA_DOWNLOAD/baci/data"
DEFAULT_BACI_RELEASE = "V202501"


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable."""


def parse_years(text: str, variable: str = "TRADEDEP_YEARS") -> tuple[int, ...]:
    """Parse '2012-2023', '2015,2019,2023' or '2020' into a sorted tuple of years."""
    years: set[int] = set()
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", part)
        if not match:
            raise SettingsError(f"{variable}={text!r}: expected years like '2012-2023' or '2015,2020'")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise SettingsError(f"{variable}={text!r}: range {part} ends before it starts")
        years.update(range(first, last + 1))
    return tuple(sorted(years))


def release_last_year(release: str) -> int:
    """BACI release VYYYYMM covers years up to YYYY - 2 (V202501 ends with 2023)."""
    return int(release[1:5]) - 2


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_path: Path
    hs_revision: str
    years: tuple[int, ...]
    baci_url: str
    baci_release: str
    sample: bool = False
    refresh: bool = False
    dagster_home: Path = field(default=Path())

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def baci_landing_dir(self) -> Path:
        # The synthetic sample lands in a folder of its own so it can never stand in for a real download.
        return self.landing_dir / ("sample" if self.sample else "") / "baci"


    @property
    def scratch_dir(self) -> Path:
        """Temporary files (e.g. one zip member being loaded); never inside the landing zone."""
        return self.data_dir / "tmp"

    @property
    def quality_dir(self) -> Path:
        return self.data_dir / "quality"

    def dbt_vars(self) -> dict[str, object]:
        """Values dbt models need from the settings, passed as --vars."""
        return {"hs_revision": self.hs_revision, "first_year": self.years[0], "last_year": self.years[-1]}

    def process_env(self) -> dict[str, str]:
        """Environment for child processes (dbt, the Dagster webserver) so they see the same settings."""
        return {
            "TRADEDEP_DATA_DIR": str(self.data_dir),
            "TRADEDEP_WAREHOUSE": str(self.warehouse_path),
            "TRADEDEP_HS_REVISION": self.hs_revision,
            "TRADEDEP_YEARS": f"{self.years[0]}-{self.years[-1]}" if self._years_contiguous() else ",".join(map(str, self.years)),
            "TRADEDEP_BACI_URL": self.baci_url,
            "TRADEDEP_BACI_RELEASE": self.baci_release,
            "TRADEDEP_SAMPLE": "1" if self.sample else "0",
            "TRADEDEP_REFRESH": "1" if self.refresh else "0",
            "DAGSTER_HOME": str(self.dagster_home),
        }

    def export_to_environ(self) -> None:
        """Make these settings the environment of child processes (dbt, the webserver).

        This environment's console scripts (dbt) go first on PATH, so they are found even when the
        virtual environment is not activated (e.g. `.venv/bin/dagster dev`).
        """
        os.environ.update({name: value for name, value in self.process_env().items() if name.startswith("TRADEDEP_")})
        path = os.environ.get("PATH", "")
        if str(BIN_DIR) not in path.split(os.pathsep):
            os.environ["PATH"] = os.pathsep.join([str(BIN_DIR), path]) if path else str(BIN_DIR)

    def _years_contiguous(self) -> bool:
        return list(self.years) == list(range(self.years[0], self.years[-1] + 1))


def _flag(env: dict[str, str], name: str) -> bool:
    value = env.get(name, "0").strip().lower()
    if value not in {"0", "1", "true", "false", "yes", "no", ""}:
        raise SettingsError(f"{name}={value!r}: expected 1/0, true/false or yes/no")
    return value in {"1", "true", "yes"}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build and validate the settings from environment variables (os.environ by default)."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("TRADEDEP_DATA_DIR") or PROJECT_ROOT / "data").expanduser().resolve()
    warehouse = Path(env.get("TRADEDEP_WAREHOUSE") or data_dir / "warehouse.duckdb").expanduser().resolve()
    revision = env.get("TRADEDEP_HS_REVISION", "HS12").strip().upper()
    if revision not in HS_REVISION_FIRST_YEAR:
        raise SettingsError(f"TRADEDEP_HS_REVISION={revision!r}: expected one of {', '.join(HS_REVISION_FIRST_YEAR)}")
    release = env.get("TRADEDEP_BACI_RELEASE", DEFAULT_BACI_RELEASE).strip()
    if not re.fullmatch(r"V20\d{4}", release):
        raise SettingsError(f"TRADEDEP_BACI_RELEASE={release!r}: expected a release name like 'V202501'")
    first_year, last_year = HS_REVISION_FIRST_YEAR[revision], release_last_year(release)
    years = parse_years(env.get("TRADEDEP_YEARS") or f"{first_year}-{last_year}")
    if years[0] < first_year or years[-1] > last_year:
        raise SettingsError(
            f"TRADEDEP_YEARS={years[0]}-{years[-1]}: BACI {release} in {revision} covers {first_year}-{last_year}"
        )
    baci_url = env.get("TRADEDEP_BACI_URL", DEFAULT_BACI_URL).strip()
    if not re.fullmatch(r"https?://\S+", baci_url):
        raise SettingsError(f"TRADEDEP_BACI_URL={baci_url!r}: expected an http(s) URL")
    dagster_home = Path(env.get("DAGSTER_HOME") or data_dir / "dagster_home").expanduser().resolve()
    return Settings(
        data_dir=data_dir,
        warehouse_path=warehouse,
        hs_revision=revision,
        years=years,
        baci_url=baci_url,
        baci_release=release,
        sample=_flag(env, "TRADEDEP_SAMPLE"),
        refresh=_flag(env, "TRADEDEP_REFRESH"),
        dagster_home=dagster_home,
    )
