"""TPC-H in Trino's spelling, and reporting queries, through lakegate's Trino protocol with
the `trino` client, checked against DuckDB over the same Parquet files.

Run by tests/trino_sql.rs against a running `lakegate local`:

    trino_tpch.py --port P --tables FILE --queries NAME=TRINO_SQL[:DUCKDB_SQL] ...

FILE is JSON: {table: [parquet paths of its current snapshot]}. Each query runs in lakegate
as written in TRINO_SQL and in DuckDB as written in DUCKDB_SQL (the same file when DuckDB reads
Trino's spelling). Rows are compared as sets (sorted), numbers with a relative tolerance of
1e-6, everything else as text. Exits non-zero naming every query whose answers differ.
"""

import argparse
import datetime
import decimal
import json
import math
import pathlib
import re
import sys

import duckdb
import trino


def cell(value):
    """A value both engines' answers can be compared on: a float for numbers, else text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float, decimal.Decimal)):
        return float(value)
    if isinstance(value, datetime.datetime):
        value = value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        value = value.isoformat()
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            # A timestamp at midnight and a date are the same day to a report.
            return re.sub(r" 00:00:00(\.0+)?$", "", value)
    if isinstance(value, (list, tuple)):
        return json.dumps([cell(v) for v in value])
    return str(value)


def same_cell(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)
    return a == b


def key(row):
    return [(c is None, "" if c is None else (f"{c:.4f}" if isinstance(c, float) else c)) for c in row]


def same_rows(a, b):
    if len(a) != len(b):
        return False
    for x, y in zip(sorted(a, key=key), sorted(b, key=key)):
        if len(x) != len(y) or not all(same_cell(p, q) for p, q in zip(x, y)):
            return False
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tables", required=True)
    parser.add_argument("--queries", nargs="+", required=True)
    args = parser.parse_args()

    with open(args.tables) as f:
        tables = json.load(f)
    duck = duckdb.connect()
    for table, files in tables.items():
        listed = ", ".join("'" + p.replace("'", "''") + "'" for p in files)
        duck.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listed}])")

    conn = trino.dbapi.connect(
        host="127.0.0.1", port=args.port, user="ana", catalog="lake", schema="tpch",
        legacy_primitive_types=True,
    )
    cur = conn.cursor()
    failed = []
    for spec in args.queries:
        name, paths = spec.split("=", 1)
        trino_path, _, duck_path = paths.partition(":")
        trino_sql = pathlib.Path(trino_path).read_text().strip().rstrip(";")
        duck_sql = pathlib.Path(duck_path or trino_path).read_text().strip().rstrip(";")
        try:
            cur.execute(trino_sql)
            ours = [[cell(v) for v in row] for row in cur.fetchall()]
        except Exception as e:  # noqa: BLE001 - reported with the query's name
            failed.append(name)
            print(f"FAIL {name}: lakegate: {str(e).splitlines()[0][:300]}")
            continue
        theirs = [[cell(v) for v in row] for row in duck.execute(duck_sql).fetchall()]
        if same_rows(ours, theirs):
            print(f"ok {name} ({len(ours)} rows)")
        else:
            failed.append(name)
            print(f"FAIL {name}: lakegate {ours[:5]} ... DuckDB {theirs[:5]} ...")
    print(f"{len(args.queries) - len(failed)}/{len(args.queries)} queries answer as DuckDB does")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
