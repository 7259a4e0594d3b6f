"""The one settings object: every path, URL, revision and year range comes from here.

Values are read from environment variables (documented in README.md and .env.example) with
defaults. No other module reads os.environ for configuration.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
# Console scripts of this environment (dbt, dagster), found beside its Python even when it is not activated.
BIN_DIR = Path(sys.executable).parent

# First year each HS revision covers in BACI (each revision re-expresses every year from its start).
HS_REVISION_FIRST_YEAR = {"HS92": 1995, "HS96": 1996, "HS02": 2002, "HS07": 2007, "HS12": 2012, "HS17": 2017, "HS22": 2022}
DEFAULT_BACI_URL = "https://www.cepii.fr/DATA_DOWNLOAD/baci/data"
DEFAULT_BACI_RELEASE = "V202501"
DEFAULT_COMTRADE_URL = "https://comtradeapi.un.org"
DEFAULT_OECD_URL = "https://sdmx.oecd.org"
DEFAULT_WORLDBANK_URL = "https://api.worldbank.org"
# BACI is the backbone of every trade figure; the others can be switched off with TRADEDEP_SOURCES.
SOURCES = ("baci", "comtrade", "oecd_tiva", "worldbank")
# Where dbt builds the models (TRADEDEP_ENGINE): DuckDB in the warehouse file, or Apache Spark (docs/scale-out.md).
ENGINES = ("duckdb", "spark")
# How dbt reaches Spark (TRADEDEP_SPARK_METHOD), and the dbt/profiles.yml target of each.
SPARK_TARGETS = {"session": "spark", "thrift": "spark_thrift", "http": "spark_databricks"}
# dbt with the Spark adapter lives in an environment of its own (README, install): pyspark beside Great Expectations
# changes how GX imports (a process started with `python -c` exits while importing it).
DEFAULT_SPARK_DBT = PROJECT_ROOT / ".venv-spark" / "bin" / "dbt"
# The dbt vars these settings compute (Settings.dbt_vars); every other var of dbt_project.yml is an analysis
# parameter (a threshold, a window, a partner group) that TRADEDEP_<NAME> overrides.
COMPUTED_DBT_VARS = ("hs_revision", "first_year", "last_year", "sources", "splice_comtrade", "warehouse_path")


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


def parse_months(text: str, today: date, variable: str = "TRADEDEP_COMTRADE_MONTHS") -> tuple[int, ...]:
    """Parse 'YYYY-MM..YYYY-MM' into every month of the range as YYYYMM numbers, or 'none' into ().

    Months run from 2000-01 to the current month (a later month has no data yet)."""
    if text.strip().lower() == "none":
        return ()
    match = re.fullmatch(r"(\d{4})-(\d{2})\.\.(\d{4})-(\d{2})", text.strip())
    if not match:
        raise SettingsError(f"{variable}={text!r}: expected a range of months like '2025-12..2026-11', or 'none'")
    first_year, first_month, last_year, last_month = map(int, match.groups())
    if not (1 <= first_month <= 12 and 1 <= last_month <= 12):
        raise SettingsError(f"{variable}={text!r}: months are 01 to 12")
    first, last = _month_index(first_year, first_month), _month_index(last_year, last_month)
    if last < first:
        raise SettingsError(f"{variable}={text!r}: the range ends before it starts")
    if first < _month_index(2000, 1) or last > _month_index(today.year, today.month):
        raise SettingsError(f"{variable}={text!r}: expected months from 2000-01 to {today:%Y-%m}")
    return tuple(_yyyymm(index) for index in range(first, last + 1))


def _month_index(year: int, month: int) -> int:
    """Months since January of year 0, so that ranges of months are ranges of numbers."""
    return year * 12 + month - 1


def _yyyymm(index: int) -> int:
    return (index // 12) * 100 + index % 12 + 1


def format_months(months: tuple[int, ...]) -> str:
    """The TRADEDEP_COMTRADE_MONTHS text of consecutive YYYYMM months, from the first and last (parse_months' inverse)."""
    if not months:
        return "none"
    return f"{months[0] // 100}-{months[0] % 100:02d}..{months[-1] // 100}-{months[-1] % 100:02d}"


def build_file(warehouse: Path) -> Path:
    """The file a build writes beside the warehouse: warehouse.duckdb -> warehouse.build.duckdb."""
    return warehouse.with_name(f"{warehouse.stem}.build{warehouse.suffix}")


def build_record_file(warehouse: Path) -> Path:
    """What the last whole build that succeeded and was published recorded, for the next build to decide whether
    it can reuse it (fingerprints.reusable_build): warehouse.duckdb -> warehouse.last-build.json."""
    return warehouse.with_name(f"{warehouse.stem}.last-build.json")


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
    force: bool = False  # rebuild with dbt and validate every suite even when nothing changed
    dagster_home: Path = field(default=Path())
    sources: tuple[str, ...] = SOURCES
    comtrade_url: str = DEFAULT_COMTRADE_URL
    comtrade_years: tuple[int, ...] = ()
    comtrade_months: tuple[int, ...] = ()  # YYYYMM, consecutive; empty: the monthly view is off
    comtrade_api_key: str | None = field(default=None, repr=False)  # a secret: never printed or recorded
    comtrade_products: tuple[str, ...] = ()  # HS6 codes to ask Comtrade for; empty = every sector-map product
    comtrade_throttle_seconds: float = 6.0
    oecd_url: str = DEFAULT_OECD_URL
    oecd_throttle_seconds: float = 60.0
    max_bad_row_share: float = 0.001  # past this share of malformed rows in a file, its load fails
    worldbank_url: str = DEFAULT_WORLDBANK_URL
    # The analysis parameters as (name, value) pairs: dbt_project.yml's vars, overridden by TRADEDEP_<NAME>.
    analysis: tuple[tuple[str, object], ...] = ()
    engine: str = "duckdb"
    spark_method: str = "session"
    spark_master: str = "local[2]"  # the session's master: local[N] on this machine
    spark_host: str = ""  # a Thrift server or Databricks workspace (thrift, http)
    spark_port: int = 0  # 0: the method's usual port
    spark_cluster: str = ""  # a Databricks cluster id (http)
    spark_dbt: Path = DEFAULT_SPARK_DBT
    # Where Spark reads the raw Parquet files: the local folder (raw_parquet_dir) by default; on a cluster, the object
    # storage they are copied to (e.g. s3a://bucket/tradedep/raw).
    spark_raw_location: str = ""
    # In a build (for_build): the warehouse readers use, which the build file is published over when a run succeeds.
    publish_to: Path | None = None

    def for_build(self) -> Settings:
        """These settings as a build uses them: it writes warehouse_path's build file (build_file) and
        publishes it over warehouse_path when its run succeeds, so readers never wait for a build."""
        if self.publish_to is not None:
            return self
        return dataclasses.replace(self, warehouse_path=build_file(self.warehouse_path), publish_to=self.warehouse_path)

    def parameter(self, name: str) -> object:
        """One analysis parameter (a dbt var), e.g. parameter("chokepoint_group")."""
        return dict(self.analysis)[name]

    def landing_for(self, source: str) -> Path:
        """A source's landing folder; the synthetic sample lands apart so it never stands in for a download."""
        return self.landing_dir / ("sample" if self.sample else "") / source

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def baci_landing_dir(self) -> Path:
        return self.landing_for("baci")

    @property
    def worldbank_years(self) -> tuple[int, int]:
        """Context indicators span the trade years, BACI's and Comtrade's."""
        return self.years[0], max(self.years[-1], *self.comtrade_years)


    @property
    def scratch_dir(self) -> Path:
        """Temporary files (e.g. one zip member being loaded); never inside the landing zone."""
        return self.data_dir / "tmp"

    @property
    def quality_dir(self) -> Path:
        return self.data_dir / "quality"

    @property
    def exports_dir(self) -> Path:
        """The BI exports: one Parquet and one CSV file per mart, and the data dictionary."""
        return self.data_dir / "marts"

    @property
    def logs_dir(self) -> Path:
        """The full output of each `tradedep build` (Dagster and dbt logs, tracebacks)."""
        return self.data_dir / "logs"

    @property
    def spark_dir(self) -> Path:
        """What the Spark engine writes: the raw tables as Parquet, its warehouse (the tables it builds) and its
        table catalogue (metastore)."""
        return self.data_dir / "spark"

    @property
    def raw_parquet_dir(self) -> Path:
        return self.spark_dir / "raw"

    @property
    def spark_warehouse(self) -> Path:
        """The tables Spark builds, as Parquet: <schema>.db/<table>/ (marts.db/fct_sector_dependency/...)."""
        return self.spark_dir / "warehouse"

    @property
    def dbt_target(self) -> str:
        """The dbt/profiles.yml target the dbt step runs on."""
        return SPARK_TARGETS[self.spark_method] if self.engine == "spark" else "dev"

    @property
    def dbt_executable(self) -> Path:
        return self.spark_dbt if self.engine == "spark" else BIN_DIR / "dbt"

    @property
    def report_path(self) -> Path:
        return self.data_dir / "report" / "index.html"

    def dbt_vars(self) -> dict[str, object]:
        """Every dbt var, passed as --vars on each dbt call: the models' and the warehouse path, which
        dbt/profiles.yml reads."""
        return {**self.model_vars(), "warehouse_path": str(self.warehouse_path), **self.spark_vars()}

    def spark_vars(self) -> dict[str, object]:
        """What dbt/profiles.yml's Spark targets and the raw views (dbt/macros/raw_sources.sql) read (DuckDB's
        target and macros read none of them)."""
        spark = {"raw_parquet": self.spark_raw_location or str(self.raw_parquet_dir),
                 "spark_warehouse": str(self.spark_warehouse), "spark_metastore": str(self.spark_dir / "metastore"),
                 "spark_master": self.spark_master, "spark_host": self.spark_host, "spark_cluster": self.spark_cluster}
        return {**spark, **({"spark_port": self.spark_port} if self.spark_port else {})}

    def model_vars(self) -> dict[str, object]:
        """The vars the models read: the analysis parameters and what the build covers. (Where the warehouse
        file is changes no model's result.)"""
        return {
            **dict(self.analysis),
            "hs_revision": self.hs_revision,
            "first_year": self.years[0],
            "last_year": self.years[-1],
            "sources": list(self.sources),
            # China's reports to Comtrade continue BACI only when the build runs to the release's last year.
            "splice_comtrade": "comtrade" in self.sources and self.years[-1] == release_last_year(self.baci_release),
        }

    def process_env(self) -> dict[str, str]:
        """Environment for a child process that loads its own settings (the Dagster webserver and its code
        server): the same values, so it builds the same Settings."""
        return {
            "TRADEDEP_DATA_DIR": str(self.data_dir),
            "TRADEDEP_WAREHOUSE": str(self.publish_to or self.warehouse_path),
            "TRADEDEP_HS_REVISION": self.hs_revision,
            "TRADEDEP_YEARS": f"{self.years[0]}-{self.years[-1]}" if self._years_contiguous() else ",".join(map(str, self.years)),
            "TRADEDEP_BACI_URL": self.baci_url,
            "TRADEDEP_BACI_RELEASE": self.baci_release,
            "TRADEDEP_SOURCES": ",".join(self.sources),
            "TRADEDEP_COMTRADE_URL": self.comtrade_url,
            "TRADEDEP_COMTRADE_YEARS": ",".join(map(str, self.comtrade_years)),
            "TRADEDEP_COMTRADE_MONTHS": format_months(self.comtrade_months),
            "TRADEDEP_COMTRADE_PRODUCTS": ",".join(self.comtrade_products),
            "TRADEDEP_COMTRADE_THROTTLE": str(self.comtrade_throttle_seconds),
            "TRADEDEP_OECD_URL": self.oecd_url,
            "TRADEDEP_OECD_THROTTLE": str(self.oecd_throttle_seconds),
            "TRADEDEP_MAX_BAD_ROW_SHARE": str(self.max_bad_row_share),
            "TRADEDEP_WORLDBANK_URL": self.worldbank_url,
            "TRADEDEP_SAMPLE": "1" if self.sample else "0",
            "TRADEDEP_REFRESH": "1" if self.refresh else "0",
            "TRADEDEP_FORCE": "1" if self.force else "0",
            "TRADEDEP_ENGINE": self.engine,
            "TRADEDEP_SPARK_METHOD": self.spark_method,
            "TRADEDEP_SPARK_MASTER": self.spark_master,
            "TRADEDEP_SPARK_HOST": self.spark_host,
            "TRADEDEP_SPARK_PORT": str(self.spark_port or ""),
            "TRADEDEP_SPARK_CLUSTER": self.spark_cluster,
            "TRADEDEP_SPARK_DBT": str(self.spark_dbt),
            "TRADEDEP_SPARK_RAW_LOCATION": self.spark_raw_location,
            **{parameter_variable(name): _parameter_text(value) for name, value in self.analysis},
            "DAGSTER_HOME": str(self.dagster_home),
        }

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
    dagster_home = Path(env.get("DAGSTER_HOME") or data_dir / "dagster_home").expanduser().resolve()
    return Settings(
        data_dir=data_dir,
        warehouse_path=warehouse,
        hs_revision=revision,
        years=years,
        baci_url=_url(env, "TRADEDEP_BACI_URL", DEFAULT_BACI_URL),
        baci_release=release,
        sample=_flag(env, "TRADEDEP_SAMPLE"),
        refresh=_flag(env, "TRADEDEP_REFRESH"),
        force=_flag(env, "TRADEDEP_FORCE"),
        dagster_home=dagster_home,
        sources=_sources(env),
        comtrade_url=_url(env, "TRADEDEP_COMTRADE_URL", DEFAULT_COMTRADE_URL),
        comtrade_years=_comtrade_years(env, last_year),
        comtrade_months=_comtrade_months(env),
        comtrade_api_key=env.get("COMTRADE_API_KEY") or None,
        comtrade_products=_hs6_list(env, "TRADEDEP_COMTRADE_PRODUCTS"),
        comtrade_throttle_seconds=_number(env, "TRADEDEP_COMTRADE_THROTTLE", 6.0, 0, 3600, "seconds"),
        oecd_url=_url(env, "TRADEDEP_OECD_URL", DEFAULT_OECD_URL),
        oecd_throttle_seconds=_number(env, "TRADEDEP_OECD_THROTTLE", 60.0, 0, 3600, "seconds"),
        max_bad_row_share=_number(env, "TRADEDEP_MAX_BAD_ROW_SHARE", 0.001, 0, 1, "a share"),
        worldbank_url=_url(env, "TRADEDEP_WORLDBANK_URL", DEFAULT_WORLDBANK_URL),
        analysis=_analysis_parameters(env),
        **_spark_settings(env),
    )


def parameter_variable(name: str) -> str:
    """The environment variable that overrides an analysis parameter: dependency_hhi -> TRADEDEP_DEPENDENCY_HHI."""
    return f"TRADEDEP_{name.upper()}"


def analysis_defaults() -> dict[str, object]:
    """The analysis parameters' defaults: dbt_project.yml's vars (their one home, also used when dbt runs by hand)."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return {name: value for name, value in project["vars"].items() if name not in COMPUTED_DBT_VARS}


def _parameter_text(value: object) -> str:
    """A parameter as its environment variable's text (_parameter's inverse)."""
    return ("1" if value else "0") if isinstance(value, bool) else str(value)


def _analysis_parameters(env: dict[str, str]) -> tuple[tuple[str, object], ...]:
    return tuple((name, _parameter(env, name, default)) for name, default in analysis_defaults().items())


def _parameter(env: dict[str, str], name: str, default: object) -> object:
    """TRADEDEP_<NAME> when set, read as the same type as the default (a number, text or true/false)."""
    variable = parameter_variable(name)
    text = env.get(variable, "").strip()
    if not text:
        return default
    if isinstance(default, bool):
        return _flag({variable: text}, variable)
    if isinstance(default, int | float):
        try:
            value = float(text)
        except ValueError:
            raise SettingsError(f"{variable}={text!r}: expected a number (default {default})") from None
        if isinstance(default, int) and not value.is_integer():
            raise SettingsError(f"{variable}={text!r}: expected a whole number (default {default})")
        return int(value) if isinstance(default, int) else value
    return text


def _url(env: dict[str, str], name: str, default: str) -> str:
    url = env.get(name, default).strip()
    if not re.fullmatch(r"https?://\S+", url):
        raise SettingsError(f"{name}={url!r}: expected an http(s) URL")
    return url


def _hs6_list(env: dict[str, str], name: str) -> tuple[str, ...]:
    codes = tuple(code.strip() for code in env.get(name, "").split(",") if code.strip())
    bad = [code for code in codes if not re.fullmatch(r"\d{6}", code)]
    if bad:
        raise SettingsError(f"{name}: {', '.join(bad)} are not HS6 codes (six digits)")
    return codes


def _number(env: dict[str, str], name: str, default: float, low: float, high: float, meaning: str) -> float:
    """A number within [low, high]; the message says what the variable means."""
    text = env.get(name, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also refuses text that is not a number (nan)
        raise SettingsError(f"{name}={text!r}: expected {meaning} from {low:g} to {high:g}")
    return value


def _sources(env: dict[str, str]) -> tuple[str, ...]:
    names = [name.strip().lower() for name in env.get("TRADEDEP_SOURCES", ",".join(SOURCES)).split(",") if name.strip()]
    unknown = sorted(set(names) - set(SOURCES))
    if unknown:
        raise SettingsError(f"TRADEDEP_SOURCES: unknown source(s) {', '.join(unknown)}; expected some of {', '.join(SOURCES)}")
    if "baci" not in names:
        raise SettingsError("TRADEDEP_SOURCES must include baci: it is the backbone of every trade figure")
    return tuple(name for name in SOURCES if name in names)


def _spark_settings(env: dict[str, str]) -> dict[str, object]:
    """The engine and, for Spark, how dbt reaches it. Credentials are not settings: dbt/profiles.yml reads them from
    the environment (TRADEDEP_SPARK_USER, DBT_ENV_SECRET_SPARK_TOKEN), so they are never passed, printed or stored."""
    engine = env.get("TRADEDEP_ENGINE", "duckdb").strip().lower() or "duckdb"
    if engine not in ENGINES:
        raise SettingsError(f"TRADEDEP_ENGINE={engine!r}: expected one of {', '.join(ENGINES)}")
    method = env.get("TRADEDEP_SPARK_METHOD", "session").strip().lower() or "session"
    if method not in SPARK_TARGETS:
        raise SettingsError(f"TRADEDEP_SPARK_METHOD={method!r}: expected one of {', '.join(SPARK_TARGETS)}")
    host = env.get("TRADEDEP_SPARK_HOST", "").strip()
    if engine == "spark" and method != "session" and not host:
        raise SettingsError(f"TRADEDEP_SPARK_METHOD={method} needs TRADEDEP_SPARK_HOST (the cluster's host name)")
    spark_dbt = Path(env.get("TRADEDEP_SPARK_DBT") or DEFAULT_SPARK_DBT).expanduser()
    if engine == "spark" and not spark_dbt.exists():
        raise SettingsError(
            f"TRADEDEP_ENGINE=spark: no dbt with the Spark adapter at {spark_dbt} (TRADEDEP_SPARK_DBT); install it "
            "with `python3 -m venv .venv-spark && .venv/bin/uv pip install --python .venv-spark/bin/python "
            "-r requirements-spark.lock` (README)")
    return {
        "engine": engine,
        "spark_method": method,
        "spark_master": env.get("TRADEDEP_SPARK_MASTER", "").strip() or "local[2]",
        "spark_host": host,
        "spark_port": int(_number(env, "TRADEDEP_SPARK_PORT", 0, 0, 65535, "a port number")),
        "spark_cluster": env.get("TRADEDEP_SPARK_CLUSTER", "").strip(),
        "spark_dbt": spark_dbt,
        "spark_raw_location": env.get("TRADEDEP_SPARK_RAW_LOCATION", "").strip().rstrip("/"),
    }


def _comtrade_months(env: dict[str, str]) -> tuple[int, ...]:
    """By default the twelve months ending with last month: the latest full months Comtrade can hold."""
    today = date.today()
    last = _month_index(today.year, today.month) - 1
    default = format_months((_yyyymm(last - 11), _yyyymm(last)))
    return parse_months(env.get("TRADEDEP_COMTRADE_MONTHS") or default, today)


def _comtrade_years(env: dict[str, str], baci_last_year: int) -> tuple[int, ...]:
    """By default the years the BACI release lacks, up to last year, plus the release's last year as overlap."""
    text = env.get("TRADEDEP_COMTRADE_YEARS") or f"{baci_last_year}-{max(baci_last_year, date.today().year - 1)}"
    years = parse_years(text, "TRADEDEP_COMTRADE_YEARS")
    if years[0] < 2000 or years[-1] > date.today().year:
        raise SettingsError(f"TRADEDEP_COMTRADE_YEARS={text!r}: expected years from 2000 to {date.today().year}")
    return years
