"""Drives lakegate's Trino protocol with the real `trino` Python client and its SQLAlchemy
dialect, as dashboards (Superset, Grafana, dbt-trino) do.

Run by tests/trino.rs against a running `lakegate local`:

    trino_client.py --port P --queries FILE

FILE is JSON: {name: sql}. Each is run through `trino.dbapi` and its rows printed as text in
one JSON object on the last line of stdout, for the Rust test to compare with its own answers.
The checks that need no Rust answer (information_schema, parameters, SQLAlchemy, errors) are
made here; a failed one exits non-zero naming it.
"""

import argparse
import datetime
import decimal
import json

import sqlalchemy
import trino

TPCH_TABLES = [
    "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
]


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}")


def text(value):
    return "NULL" if value is None else str(value)


def connect(port, **kwargs):
    return trino.dbapi.connect(
        host="127.0.0.1", port=port, user="ana", catalog="lake", schema="tpch", **kwargs
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--queries", required=True)
    args = parser.parse_args()
    with open(args.queries) as f:
        queries = json.load(f)

    conn = connect(args.port)
    cur = conn.cursor()
    answers = {}
    for name, sql in queries.items():
        cur.execute(sql)
        answers[name] = [[text(v) for v in row] for row in cur.fetchall()]
        check(cur.description is not None, f"{name} has a description")

    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'tpch' AND table_name = 'lineitem' ORDER BY ordinal_position"
    )
    columns = [row[0] for row in cur.fetchall()]
    check(columns[:2] == ["l_orderkey", "l_partkey"] and len(columns) == 16,
          "information_schema.columns lists lineitem's 16 columns")

    # `?` parameters: EXECUTE IMMEDIATE (the client's default) and PREPARE/EXECUTE.
    sql = ("SELECT count(*) FROM lineitem WHERE l_quantity < ? AND l_shipdate >= ? "
           "AND l_returnflag = ?")
    params = [10, datetime.date(1995, 1, 1), "N"]
    cur.execute(sql, params)
    immediate = cur.fetchall()
    legacy = connect(args.port, legacy_prepared_statements=True).cursor()
    legacy.execute(sql, params)
    prepared = legacy.fetchall()
    check(immediate == prepared and immediate[0][0] > 0,
          f"? parameters: EXECUTE IMMEDIATE and PREPARE/EXECUTE agree ({immediate})")
    answers["params"] = [[text(v) for v in row] for row in immediate]

    cur.execute("SELECT DECIMAL '1.50' AS d, DATE '2024-02-29' AS day, "
                "TIMESTAMP '2024-02-29 12:30:00.123456' AS ts, X'6869' AS bin, "
                "CAST(NULL AS BIGINT) AS nothing")
    row = cur.fetchall()[0]
    check(row[0] == decimal.Decimal("1.5") and row[1] == datetime.date(2024, 2, 29)
          and row[2] == datetime.datetime(2024, 2, 29, 12, 30, 0, 123456)
          and row[3] == b"hi" and row[4] is None,
          f"decimal, date, timestamp, varbinary and NULL decode to Python values ({row})")

    cur.execute("SET SESSION cache = 'off'")
    cur.fetchall()
    check(conn._client_session.properties.get("cache") == "off",
          "SET SESSION reaches the client session")
    cur.execute("USE lake.tpch")
    cur.fetchall()
    cur.execute("SHOW TABLES")
    check([r[0] for r in cur.fetchall()] == TPCH_TABLES, "SHOW TABLES lists the TPC-H tables")

    try:
        cur.execute("SELECT nope FROM nation")
        cur.fetchall()
        check(False, "an unknown column fails")
    except trino.exceptions.TrinoUserError as e:
        check(e.error_type == "USER_ERROR" and "nope" in e.message,
              f"an unknown column is a user error naming it ({e.error_name})")
    try:
        cur.execute("INSERT INTO nation VALUES (1, 'x', 1, 'x')")
        cur.fetchall()
        check(False, "a write fails")
    except trino.exceptions.TrinoUserError as e:
        check(e.error_name == "PERMISSION_DENIED", "a write is refused as read-only")

    engine = sqlalchemy.create_engine(f"trino://ana@127.0.0.1:{args.port}/lake")
    tables = sorted(sqlalchemy.inspect(engine).get_table_names(schema="tpch"))
    check(tables == TPCH_TABLES, "SQLAlchemy lists the tables of schema tpch")
    with engine.connect() as connection:
        count = connection.execute(
            sqlalchemy.text("SELECT count(*) FROM nation WHERE n_regionkey = :r"), {"r": 1}
        ).scalar()
    check(count == 5, "SQLAlchemy runs a query with a bound parameter")

    print(json.dumps(answers))


if __name__ == "__main__":
    main()
