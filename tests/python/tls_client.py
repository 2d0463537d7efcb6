"""Checks lakegate's TLS listeners with the real clients: ADBC Flight SQL over grpc+tls, the
Trino client and plain urllib over https, psycopg with sslmode=verify-full, each trusting only
the test's certificate; and that plaintext is refused on the Flight SQL, HTTP and
PostgreSQL ports.

Run by tests/tls.rs against `lakegate local` with server.tls_cert / server.tls_key:

    tls_client.py --flight F --http H --postgres P --ca cert.pem

Each check prints `ok: ...`; a failed one exits non-zero naming it.
"""

import argparse
import http.client
import json
import ssl
import urllib.error
import urllib.request

import adbc_driver_flightsql.dbapi as flightsql
import psycopg
import requests
import trino

SQL = "SELECT count(*) FROM tpch.region"


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flight", type=int, required=True)
    parser.add_argument("--http", type=int, required=True)
    parser.add_argument("--postgres", type=int, required=True)
    parser.add_argument("--ca", required=True)
    args = parser.parse_args()
    with open(args.ca) as f:
        ca = f.read()

    with flightsql.connect(
        f"grpc+tls://localhost:{args.flight}",
        db_kwargs={"adbc.flight.sql.client_option.tls_root_certs": ca},
    ) as conn:
        with conn.cursor() as cur:
            cur.execute(SQL)
            check(cur.fetchall() == [(5,)], "ADBC over grpc+tls answers")
    try:
        with flightsql.connect(f"grpc://localhost:{args.flight}") as conn:
            with conn.cursor() as cur:
                cur.execute(SQL)
                cur.fetchall()
        check(False, "plaintext Flight SQL is refused")
    except Exception as e:  # noqa: BLE001 - any failure is the refusal
        check(True, f"plaintext Flight SQL is refused ({type(e).__name__})")

    context = ssl.create_default_context(cafile=args.ca)
    request = urllib.request.Request(
        f"https://localhost:{args.http}/v1/query",
        data=json.dumps({"sql": SQL}).encode(),
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=context) as response:
        check(json.load(response)["rows"] == [[5]], "the HTTP API answers over https")
    try:
        urllib.request.urlopen(f"http://localhost:{args.http}/healthz", timeout=10)
        check(False, "plain HTTP is refused")
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        check(True, f"plain HTTP is refused ({type(e).__name__})")

    # A session of its own: requests lets REQUESTS_CA_BUNDLE (set on many machines) override
    # a session's `verify`, and the test must trust exactly its own CA.
    session = requests.Session()
    session.trust_env = False
    session.verify = args.ca
    conn = trino.dbapi.connect(
        host="localhost", port=args.http, user="ana", catalog="lake", schema="tpch",
        http_scheme="https", http_session=session,
    )
    cur = conn.cursor()
    cur.execute(SQL)
    check(cur.fetchall() == [[5]], "the Trino client answers over https")

    dsn = (f"host=localhost port={args.postgres} dbname=lake user=ana "
           f"sslmode=verify-full sslrootcert={args.ca}")
    with psycopg.connect(dsn, autocommit=True) as pg:
        check(pg.execute(SQL).fetchall() == [(5,)], "psycopg answers over verified TLS")
        check(pg.info.pgconn.ssl_in_use, "the PostgreSQL connection is encrypted")
    try:
        psycopg.connect(f"host=localhost port={args.postgres} dbname=lake user=ana sslmode=disable").close()
        check(False, "plaintext PostgreSQL is refused")
    except psycopg.OperationalError as e:
        check("only TLS" in str(e), f"plaintext PostgreSQL is refused ({str(e).strip()[-80:]})")


if __name__ == "__main__":
    main()
