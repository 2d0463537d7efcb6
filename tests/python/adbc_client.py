"""Drives lakegate's Flight SQL front end with the real ADBC Flight SQL driver, as BI tools do.

Run by tests/adbc.rs against a running `lakegate local` (users mode):

    adbc_client.py --port P --user U --password W --tpch-sql FILE --expected FILE

The expected answer of the TPC-H query in --tpch-sql is an Arrow IPC file the Rust Flight SQL
client wrote. Exits non-zero, naming the failed check, on any mismatch.
"""

import argparse
import sys

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pyarrow as pa

TPCH_TABLES = {
    "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
}


def connect(port, user, password):
    return flight_sql.connect(
        uri=f"grpc://127.0.0.1:{port}",
        db_kwargs={
            adbc_driver_manager.DatabaseOptions.USERNAME.value: user,
            adbc_driver_manager.DatabaseOptions.PASSWORD.value: password,
        },
    )


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}")


def objects_are_listed(conn):
    objects = conn.adbc_get_objects(depth="all").read_all().to_pylist()
    catalogs = {c["catalog_name"]: c for c in objects}
    check("lake" in catalogs, f"get_objects lists the lake catalog (got {sorted(catalogs)})")
    schemas = {s["db_schema_name"]: s for s in catalogs["lake"]["catalog_db_schemas"]}
    check("tpch" in schemas, f"get_objects lists the tpch schema (got {sorted(schemas)})")
    tables = {t["table_name"]: t for t in schemas["tpch"]["db_schema_tables"]}
    check(TPCH_TABLES <= set(tables), f"get_objects lists the 8 TPC-H tables (got {sorted(tables)})")
    columns = [c["column_name"] for c in tables["nation"]["table_columns"]]
    check(
        columns == ["n_nationkey", "n_name", "n_regionkey", "n_comment"],
        f"get_objects lists nation's columns in order (got {columns})",
    )
    lineitem = [c["column_name"] for c in tables["lineitem"]["table_columns"]]
    check(len(lineitem) == 16, f"lineitem has 16 columns (got {len(lineitem)})")


def table_schema_matches(conn):
    schema = conn.adbc_get_table_schema("nation", catalog_filter="lake", db_schema_filter="tpch")
    cursor = conn.cursor()
    cursor.execute("SELECT * FROM lake.tpch.nation LIMIT 1")
    queried = cursor.fetch_arrow_table().schema
    cursor.close()
    check(schema.names == queried.names, f"get_table_schema names match a query's ({schema.names})")
    check(
        [f.type for f in schema] == [f.type for f in queried],
        f"get_table_schema types match a query's ({schema.types})",
    )


def parameters_bind(conn):
    cursor = conn.cursor()
    cursor.execute(
        "SELECT n_name FROM nation WHERE n_regionkey = ? AND n_nationkey < ? ORDER BY n_name",
        parameters=(1, 20),
    )
    names = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "SELECT n_name FROM nation WHERE n_regionkey = 1 AND n_nationkey < 20 ORDER BY n_name"
    )
    expected = [row[0] for row in cursor.fetchall()]
    cursor.close()
    check(names and names == expected, f"? parameters bind by position ({names})")


def tpch_matches_rust(conn, sql_file, expected_file):
    with open(sql_file) as f:
        sql = f.read()
    cursor = conn.cursor()
    cursor.execute(sql)
    actual = cursor.fetch_arrow_table()
    cursor.close()
    with pa.ipc.open_file(expected_file) as reader:
        expected = reader.read_all()
    check(actual.schema.equals(expected.schema), "the TPC-H answer's schema equals the Rust client's")
    check(actual.equals(expected), f"the TPC-H answer equals the Rust client's ({actual.num_rows} rows)")


def wrong_password_is_refused(port, user):
    try:
        conn = connect(port, user, "not-the-password")
        cursor = conn.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchall()
    except adbc_driver_manager.Error as e:
        check("UNAUTHENTICATED" in str(e) or "password" in str(e), f"a wrong password is refused ({e})")
        return
    raise AssertionError("a wrong password was accepted")


def insert_is_refused(conn):
    cursor = conn.cursor()
    try:
        cursor.execute("INSERT INTO nation VALUES (99, 'ATLANTIS', 0, 'sunk')")
        cursor.fetchall()
    except adbc_driver_manager.Error as e:
        check("read-only" in str(e), f"an INSERT is refused as read-only ({e})")
        return
    finally:
        cursor.close()
    raise AssertionError("an INSERT was accepted")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--tpch-sql", required=True)
    parser.add_argument("--expected", required=True)
    args = parser.parse_args()

    conn = connect(args.port, args.user, args.password)
    try:
        objects_are_listed(conn)
        table_schema_matches(conn)
        parameters_bind(conn)
        tpch_matches_rust(conn, args.tpch_sql, args.expected)
        insert_is_refused(conn)
    finally:
        conn.close()
    wrong_password_is_refused(args.port, args.user)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
