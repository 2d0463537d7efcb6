"""Merge-on-read against compacted: what deleting 10% of lineitem costs a reader.

    cargo build --release
    ~/.cache/lakegate-venv/bin/python benches/merge_on_read.py --scale 1 --iterations 3

Writes (or reuses) a TPC-H lake, then three copies of lineitem made by DuckDB through a REST
catalog over the lake's SQLite catalog: `lineitem_pos` with 10% of its rows deleted by DuckDB's
position deletes, `lineitem_eq` with the same rows deleted by one equality delete file on
(l_orderkey, l_linenumber), and `lineitem_compact` holding only the surviving rows (the same
data, compacted). `lakegate local` (result cache off) runs each query on each copy; the
report gives per-query medians and the ratio of each merge-on-read copy to the compacted one.
Targets: position deletes <= 1.5x, equality deletes <= 2x.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))

import pyarrow as pa  # noqa: E402
from pyiceberg.catalog.sql import SqlCatalog  # noqa: E402

import iceberg_rest  # noqa: E402
import replica  # noqa: E402

NAMESPACE = "mor"
# About one row in ten, spread over every file and row group.
DELETED = "(l_orderkey * 7 + l_linenumber) % 10 = 3"
QUERIES = {
    "count": "SELECT count(*) FROM {t}",
    "q01": (
        "SELECT l_returnflag, l_linestatus, sum(l_quantity), sum(l_extendedprice), "
        "sum(l_extendedprice * (1 - l_discount)), avg(l_discount), count(*) FROM {t} "
        "WHERE l_shipdate <= DATE '1998-09-02' GROUP BY 1, 2 ORDER BY 1, 2"
    ),
    "q06": (
        "SELECT sum(l_extendedprice * l_discount) FROM {t} WHERE l_shipdate >= DATE '1994-01-01' "
        "AND l_shipdate < DATE '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24"
    ),
    "keys": "SELECT count(DISTINCT l_orderkey), max(l_partkey) FROM {t} WHERE l_suppkey % 3 = 0",
}


def ensure_tpch(lakegate, scale, warehouse):
    if os.path.exists(os.path.join(warehouse, "catalog.db")):
        return
    print(f"writing TPC-H scale {scale} to {warehouse}", flush=True)
    subprocess.run([lakegate, "tpch", "--scale", str(scale), "--warehouse", warehouse], check=True)


def ensure_copies(warehouse):
    catalog = SqlCatalog("lake", uri=f"sqlite:///{warehouse}/catalog.db", warehouse=f"file://{warehouse}")
    if catalog.table_exists((NAMESPACE, "lineitem_compact")):
        return
    server = iceberg_rest.serve(catalog, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    args = argparse.Namespace(
        rest=f"http://127.0.0.1:{server.server_address[1]}",
        credential=None,
        s3=None,
        s3_key=None,
        warehouse_name="lake",
    )
    con = replica.duckdb_connection(args)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS lake.{NAMESPACE}")
    for name in ("lineitem_pos", "lineitem_eq"):
        print(f"copying lineitem to {name}", flush=True)
        con.execute(f"CREATE TABLE lake.{NAMESPACE}.{name} AS SELECT * FROM lake.tpch.lineitem")
    print("deleting 10% of lineitem_pos by position", flush=True)
    con.execute(f"DELETE FROM lake.{NAMESPACE}.lineitem_pos WHERE {DELETED}")
    print("deleting the same rows of lineitem_eq by equality", flush=True)
    keys = con.execute(
        f"SELECT l_orderkey, l_linenumber FROM lake.{NAMESPACE}.lineitem_eq WHERE {DELETED}"
    ).to_arrow_table()
    table = catalog.load_table((NAMESPACE, "lineitem_eq"))
    schema = table.schema()
    key_ids = [schema.find_field("l_orderkey").field_id, schema.find_field("l_linenumber").field_id]
    keys = pa.table({"l_orderkey": keys.column(0), "l_linenumber": keys.column(1)})
    replica.commit_equality_deletes(table, key_ids, keys)
    print("writing the compacted copy", flush=True)
    con.execute(
        f"CREATE TABLE lake.{NAMESPACE}.lineitem_compact AS "
        f"SELECT * FROM lake.tpch.lineitem WHERE NOT ({DELETED})"
    )
    server.shutdown()


def start_lakegate(lakegate, warehouse, executors):
    process = subprocess.Popen(
        [
            lakegate, "local", "--warehouse", warehouse, "--executors", str(executors),
            "--flight-sql-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
            "--postgres-addr", "127.0.0.1:0", "--set", "cache.enabled=false",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in process.stdout:
        if line.startswith("Flight SQL listening on "):
            return process, int(line.rsplit(":", 1)[1])
    raise SystemExit("lakegate local did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--executors", type=int, default=2)
    parser.add_argument("--lakegate", default=os.path.join(HERE, "..", "target", "release", "lakegate"))
    parser.add_argument("--warehouse", help="default: a folder per scale under the temp dir, reused")
    args = parser.parse_args()
    warehouse = os.path.abspath(
        args.warehouse or os.path.join(tempfile.gettempdir(), f"lakegate-bench-mor-sf{args.scale:g}")
    )
    ensure_tpch(args.lakegate, args.scale, warehouse)
    ensure_copies(warehouse)

    import adbc_driver_flightsql.dbapi as flightsql

    process, port = start_lakegate(args.lakegate, warehouse, args.executors)
    try:
        connection = flightsql.connect(f"grpc://127.0.0.1:{port}")

        def timed(sql):
            start = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(sql)
                rows = cursor.fetch_arrow_table()
            return time.perf_counter() - start, rows

        tables = ["lineitem_compact", "lineitem_pos", "lineitem_eq"]
        totals = {t: 0.0 for t in tables}
        print(f"\n{'query':<8}" + "".join(f"{t:>20}" for t in tables) + f"{'pos/compact':>13}{'eq/compact':>12}")
        for name, sql in QUERIES.items():
            medians = {}
            answers = {}
            for table in tables:
                query = sql.format(t=f"{NAMESPACE}.{table}")
                _, answers[table] = timed(query)  # warm-up: metadata, delete caches, page cache
                medians[table] = statistics.median(timed(query)[0] for _ in range(args.iterations))
                totals[table] += medians[table]
            expected = replica.rows_of(answers["lineitem_compact"])
            for table in ("lineitem_pos", "lineitem_eq"):
                problem = replica.diff(expected, replica.rows_of(answers[table]))
                if problem:
                    raise SystemExit(f"{name}: {table} answers differently from the compacted copy: {problem}")
            compact = medians["lineitem_compact"]
            print(
                f"{name:<8}" + "".join(f"{medians[t] * 1000:>18.1f}ms" for t in tables)
                + f"{medians['lineitem_pos'] / compact:>12.2f}x{medians['lineitem_eq'] / compact:>11.2f}x"
            )
        compact = totals["lineitem_compact"]
        print(
            f"{'total':<8}" + "".join(f"{totals[t] * 1000:>18.1f}ms" for t in tables)
            + f"{totals['lineitem_pos'] / compact:>12.2f}x{totals['lineitem_eq'] / compact:>11.2f}x"
        )
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
