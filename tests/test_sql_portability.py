"""The dbt project stays portable: it builds on DuckDB and on Spark (docs/scale-out.md) with no model forked per engine.

Models, macros, tests and the column types of contracts and seeds may not use a type or syntax only some engines
know; what differs lives in the body of a dispatched macro (default__x, duckdb__x, spark__x), which is exempt."""

import re
from pathlib import Path

import pytest
import yaml

from dagster_project.settings import DBT_PROJECT_DIR

# Each rule: a pattern (matched case-insensitively on SQL without its comments) and what to write instead.
RULES = {
    r"\bvarchar\b|\bas\s+text\b": "a string type: {{ dbt.type_string() }} (Spark 4 wants a length on varchar)",
    r"\bdouble\s+precision\b": "{{ type_double() }} (Spark has no 'double precision')",
    r"\bfloat\b|\breal\b": "{{ type_double() }} (a 32-bit float on some engines)",
    r"::": "cast(x as type) (the :: cast is DuckDB's and PostgreSQL's)",
    r"\b(hugeint|ubigint|uinteger|usmallint|utinyint)\b": "a signed or decimal type every engine has",
    r"\bstring_agg\s*\(|\bgroup_concat\s*\(": "{{ dbt.listagg(...) }}",
    r"\blist\s*\(|\blist_\w+\s*\(|\barray_agg\s*\(": "an engine-neutral form (lists differ per engine)",
    r"\b(arg_max|arg_min|max_by|min_by)\s*\(": "a window function (row_number) or a join",
    r"\b(strftime|strptime|epoch|date_part)\s*\(": "dbt's date macros (dbt.date_trunc, dbt.dateadd, ...) or year_start",
    r"\bregexp_matches\s*\(|\bilike\b": "like, or a dispatched macro",
    r"\bqualify\b": "a subquery filtering on the window function",
    r"\b(read_parquet|read_csv|read_csv_auto|read_json)\s*\(": "a dbt source (the raw layer is the engine's concern)",
    r"\bstruct_pack\s*\(|\bexclude\s*\(|\bcolumns\s*\(": "plain column lists",
    r"\bgroup\s+by\s+all\b|\border\s+by\s+all\b": "the columns by name",
}
# Types a contract or a seed may declare: each engine reads them alike (DuckDB takes 'string' as varchar).
PORTABLE_TYPES = r"string|boolean|integer|int|bigint|smallint|double|date|timestamp|decimal\(\d+,\s*\d+\)"
DISPATCHED = re.compile(r"{%-?\s*macro\s+\w+__\w+\s*\(.*?{%-?\s*endmacro\s*-?%}", re.S | re.I)


def engine_specific(sql: str) -> list[str]:
    """What in this dbt SQL (a model, a macro file, a test) only some engines run, as 'matched text: use ...'."""
    text = DISPATCHED.sub("", sql)  # an implementation for one engine says what is specific to it
    text = re.sub(r"{#.*?#}", "", text, flags=re.S)
    text = re.sub(r"--[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"'(?:[^']|'')*'", "''", text)  # text literals may say anything
    return [f"{match.group(0)}: use {advice}" for pattern, advice in RULES.items()
            for match in re.finditer(pattern, text, flags=re.I)]


def unportable_types(types: dict[str, str]) -> list[str]:
    return [f"{column}: {kind}" for column, kind in types.items()
            if not re.fullmatch(PORTABLE_TYPES, str(kind).strip(), flags=re.I)]


def sql_files() -> list[Path]:
    return sorted(path for folder in ("models", "macros", "tests") for path in (DBT_PROJECT_DIR / folder).rglob("*.sql"))


def test_the_project_uses_no_engine_specific_sql():
    assert len(sql_files()) > 40
    found = {str(path.relative_to(DBT_PROJECT_DIR)): problems for path in sql_files()
             if (problems := engine_specific(path.read_text(encoding="utf-8")))}
    assert found == {}


def test_contracts_and_seeds_declare_portable_types():
    contract_types = {}
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            for column in model.get("columns", []):
                if "data_type" in column:
                    contract_types[f"{model['name']}.{column['name']}"] = column["data_type"]
    assert len(contract_types) > 100
    assert unportable_types(contract_types) == []
    seeds = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["seeds"]["tradedep"]
    seed_types = {f"{seed}.{column}": kind for seed, config in seeds.items() if isinstance(config, dict)
                  for column, kind in config.get("+column_types", {}).items()}
    assert len(seed_types) > 30
    assert unportable_types(seed_types) == []


@pytest.mark.parametrize("bad_model", [
    "select cast(code as varchar) as code from {{ ref('stg_baci__products') }}",
    "select cast(v as double precision) as v from {{ ref('stg_baci__trade') }}",
    "select v::double as v from {{ ref('stg_baci__trade') }}",
    "select string_agg(hs6, ', ') as codes from {{ ref('stg_baci__products') }}",
    "select arg_max(partner, value) from t",
    "select * from t qualify row_number() over (order by v) = 1",
    "select cast(sum(v) as hugeint) from t",
    "select * from read_parquet('data/x.parquet')",
])
def test_a_model_with_an_engine_specific_type_or_function_is_rejected(bad_model):
    assert engine_specific(bad_model)


def test_engine_specific_sql_is_allowed_in_a_dispatched_macro_comments_and_text():
    macro = ("{% macro duckdb__joined(x) -%} string_agg({{ x }}, ', ') {%- endmacro %}\n"
             "{% macro joined(x) -%} {{ return(adapter.dispatch('joined', 'tradedep')(x)) }} {%- endmacro %}")
    assert engine_specific(macro) == []
    assert engine_specific("-- not varchar\n{# nor double precision #}\nselect 'a::b varchar' as note") == []
    assert engine_specific("select {{ dbt.listagg('x', \"', '\", 'order by x') }}, cast(v as {{ type_double() }})") == []


def test_a_contract_type_only_duckdb_knows_is_rejected():
    assert unportable_types({"m.a": "string", "m.b": "decimal(38, 0)", "m.c": "double"}) == []
    assert unportable_types({"m.a": "varchar", "m.b": "double precision", "m.c": "hugeint"}) == [
        "m.a: varchar", "m.b: double precision", "m.c: hugeint"]
