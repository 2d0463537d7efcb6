"""Checks lakegate's access control through PostgreSQL (psycopg) and the Trino client, as
user `--user`, a member of a group whose rules filter `tpch.orders` and hide `lineitem`.

Run by tests/access.rs against `lakegate local` with an access control file:

    access_client.py --postgres P --http H --user U --sql SQL

Prints, as JSON on the last line, the rows each client got for SQL and the tables each
listing showed, for the Rust test to compare with its own answer; the refusals are checked
here and a failed check exits non-zero naming it.
"""

import argparse
import json

import psycopg
import trino


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}")


def plain(rows):
    return [[str(v) for v in row] for row in rows]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", type=int, required=True)
    parser.add_argument("--http", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--sql", required=True)
    args = parser.parse_args()
    out = {}

    dsn = f"host=127.0.0.1 port={args.postgres} dbname=lake user={args.user}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        out["postgres_rows"] = plain(conn.execute(args.sql).fetchall())
        out["postgres_tables"] = sorted(
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'tpch' AND c.relkind = 'r'"
            ).fetchall()
        )
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT a.attname FROM pg_catalog.pg_attribute a "
                "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                "WHERE c.relname = 'orders' AND a.attnum > 0"
            ).fetchall()
        ]
        check("o_comment" not in columns and "o_clerk" in columns,
              f"pg_attribute shows the masked column and not the hidden one ({columns})")
        try:
            conn.execute("SELECT count(*) FROM tpch.lineitem").fetchall()
            check(False, "PostgreSQL: lineitem is refused")
        except psycopg.Error as e:
            check(e.sqlstate == "42501" and "lake.tpch.lineitem" in str(e),
                  f"PostgreSQL: lineitem is refused with 42501 naming it ({e.sqlstate}: {e})")

    conn = trino.dbapi.connect(host="127.0.0.1", port=args.http, user=args.user,
                               catalog="lake", schema="tpch")
    cur = conn.cursor()
    cur.execute(args.sql)
    out["trino_rows"] = plain(cur.fetchall())
    cur.execute("SHOW TABLES FROM tpch")
    out["trino_tables"] = sorted(r[0] for r in cur.fetchall())
    try:
        cur.execute("SELECT count(*) FROM lineitem")
        cur.fetchall()
        check(False, "Trino: lineitem is refused")
    except trino.exceptions.TrinoUserError as e:
        check(e.error_name == "PERMISSION_DENIED" and "lake.tpch.lineitem" in e.message,
              f"Trino: lineitem is refused with PERMISSION_DENIED naming it ({e.error_name})")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
