"""DuckDB as a peer in `benches/peers`: reads the same Iceberg tables and times queries it is sent.

Started by the Rust harness with the venv's Python. It speaks JSON lines on stdin/stdout so that
one process times every engine in one run:

  first line in:   {"tables": {"lineitem": "/path/to/metadata/00001-....metadata.json", ...}}
  each line in:    {"name": "q01", "sql": "...", "iterations": 3}
  each line out:   {"name": "q01", "median_ms": 812.4, "rows": 4}   or   {"name": ..., "error": "..."}

The extension is loaded from the `duckdb-extension-iceberg` wheel (no download); each table is a
view over `iceberg_scan` of the metadata file the lakegate catalog points at, so DuckDB reads the
snapshot lakegate reads, through its own Iceberg reader, on all of the machine's cores.
"""

import glob
import importlib
import json
import os
import statistics
import sys
import time

import duckdb


def connect(tables):
    con = duckdb.connect(
        config={
            "allow_unsigned_extensions": "true",
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
        }
    )
    for name in ["avro", "iceberg"]:
        module = importlib.import_module(f"duckdb_extension_{name}")
        pattern = os.path.join(os.path.dirname(module.__file__), f"extensions/*/{name}.duckdb_extension")
        con.execute(f"LOAD '{glob.glob(pattern)[0]}'")
    for table, metadata in tables.items():
        path = metadata.removeprefix("file://")
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM iceberg_scan('{path}')")
    return con


def run(con, sql):
    return len(con.execute(sql).fetchall())


def timed(con, request):
    sql = request["sql"]
    run(con, sql)  # untimed warm-up, as for the other engines
    times, rows = [], 0
    for _ in range(request["iterations"]):
        start = time.perf_counter()
        rows = run(con, sql)
        times.append((time.perf_counter() - start) * 1000.0)
    return {"name": request["name"], "median_ms": statistics.median_low(times), "rows": rows}


def main():
    first = sys.stdin.readline()
    if not first:
        return
    con = connect(json.loads(first)["tables"])
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = timed(con, request)
        except Exception as error:  # reported to the harness, which names the query
            answer = {"name": request["name"], "error": str(error)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
