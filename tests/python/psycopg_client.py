"""Drives lakegate's PostgreSQL wire protocol with psycopg 3 (server-side parameter binding,
the extended query protocol), as Python analysts and services do.

Run by tests/postgres.rs against a running `lakegate local` in users mode:

    psycopg_client.py --port P --user U --password W

Prints the rows of a parameterised query as JSON text on the last line, for the Rust test to
compare with its own answer; the checks that need no Rust answer are made here and a failed
one exits non-zero naming it.
"""

import argparse
import datetime
import decimal
import json
import threading
import time

import psycopg


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    dsn = f"host=127.0.0.1 port={args.port} dbname=lake user={args.user}"

    try:
        psycopg.connect(f"{dsn} password=wrong").close()
        check(False, "a wrong password is refused")
    except psycopg.OperationalError as e:
        check(e.sqlstate in (None, "28P01") and "password" in str(e).lower(),
              f"a wrong password is refused ({e.sqlstate})")

    with psycopg.connect(f"{dsn} password={args.password}", autocommit=True) as conn:
        # Server-side binding: the statement is prepared, parameters sent apart from the SQL.
        cur = conn.execute(
            "SELECT o_orderkey, o_totalprice, o_orderdate FROM tpch.orders "
            "WHERE o_orderdate >= %s AND o_totalprice > %s ORDER BY o_orderkey LIMIT 20",
            [datetime.date(1996, 1, 1), decimal.Decimal("100000")],
            prepare=True,
        )
        rows = cur.fetchall()
        price = cur.description[1]
        check((price.type_display, price.precision, price.scale) == ("numeric(15,2)", 15, 2),
              f"a decimal(15,2) column is described as numeric(15,2) ({price})")
        check(len(rows) == 20 and isinstance(rows[0][1], decimal.Decimal)
              and isinstance(rows[0][2], datetime.date),
              "a parameterised query returns numeric and date values")
        try:
            conn.execute("INSERT INTO tpch.nation VALUES (99, 'X', 1, 'x')")
            check(False, "a write fails")
        except psycopg.Error as e:
            check(e.sqlstate == "25006", f"a write fails with 25006 ({e.sqlstate})")
        try:
            conn.execute("SELECT * FROM tpch.nowhere")
            check(False, "an unknown table fails")
        except psycopg.Error as e:
            check(e.sqlstate == "42P01", f"an unknown table fails with 42P01 ({e.sqlstate})")
        row = conn.execute("SELECT make_array(1, 2, NULL) AS ints, "
                           "make_array(0.5, 1.5) AS doubles").fetchone()
        check(row == ([1, 2, None], [0.5, 1.5]),
              f"integer and double lists arrive as PostgreSQL arrays ({row})")
        # Strings that need quoting inside an array literal, dates, decimals and timestamps,
        # in text (a plain query) and binary (binary=True) results.
        sql = ("SELECT make_array('a', 'b \"c', NULL, 'x,y', '', 'NULL') AS words, "
               "make_array(DATE '1998-09-02', NULL) AS dates, "
               "make_array(CAST(1.50 AS DECIMAL(10, 2)), CAST(-2.25 AS DECIMAL(10, 2))) AS nums, "
               "make_array(TIMESTAMP '2024-01-02 03:04:05') AS stamps")
        expected = (["a", 'b "c', None, "x,y", "", "NULL"],
                    [datetime.date(1998, 9, 2), None],
                    [decimal.Decimal("1.50"), decimal.Decimal("-2.25")],
                    [datetime.datetime(2024, 1, 2, 3, 4, 5)])
        for binary in (False, True):
            with conn.cursor(binary=binary) as cur:
                row = cur.execute(sql).fetchone()
            check(row == expected,
                  f"string, date, decimal and timestamp lists as arrays, binary={binary} ({row})")

        # A cancel request (sent on its own connection, as psql's Ctrl-C does) stops a long
        # query with 57014, and the connection stays usable.
        timer = threading.Timer(1.0, conn.cancel_safe)
        timer.start()
        started = time.monotonic()
        try:
            conn.execute("SELECT count(*) FROM tpch.lineitem a, tpch.lineitem b "
                         "WHERE a.l_comment < b.l_comment").fetchall()
            check(False, "the long query is cancelled")
        except psycopg.errors.QueryCanceled as e:
            elapsed = time.monotonic() - started
            check(e.sqlstate == "57014" and elapsed < 60,
                  f"a cancel request stops the query with 57014 after {elapsed:.1f} s")
        finally:
            timer.cancel()
        check(conn.execute("SELECT 1").fetchone()[0] == 1, "the connection works after a cancel")
        print(json.dumps([[str(v) for v in row] for row in rows]))


if __name__ == "__main__":
    main()
