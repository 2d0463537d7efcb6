"""JWT bearer tokens against lakegate, signed here as an identity provider would.

    jwt_client.py keys --dir D
        writes D/jwks.json (an RSA key "rsa1" and a P-256 key "ec1") and their private keys
    jwt_client.py check --dir D --flight F --http H --postgres P --ca CA

`check` presents tokens through ADBC Flight SQL (authorization header), the HTTP API
(Authorization: Bearer), the Trino client (JWTAuthentication, over https) and psycopg (the
token as password): valid RS256 and ES256 tokens are accepted, and the groups claim decides
what a user reads; expired, wrong-audience and badly signed tokens are refused, with the
reason. A failed check exits non-zero naming it.
"""

import argparse
import json
import os
import ssl
import time
import urllib.error
import urllib.request

import adbc_driver_flightsql.dbapi as flightsql
import jwt
import psycopg
import requests
import trino
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://idp.test"
AUDIENCE = "lakegate"
SQL = "SELECT count(*) FROM tpch.region"


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}")


def pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def keys(directory):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = []
    for kid, key, alg in [("rsa1", rsa_key, "RS256"), ("ec1", ec_key, "ES256")]:
        jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
        jwk.update({"kid": kid, "alg": alg, "use": "sig"})
        public.append(jwk)
    with open(os.path.join(directory, "jwks.json"), "w") as f:
        json.dump({"keys": public}, f)
    for name, key in [("rsa1", rsa_key), ("ec1", ec_key), ("other", other)]:
        with open(os.path.join(directory, f"{name}.pem"), "wb") as f:
            f.write(pem(key))


def token(directory, key, alg, kid, **overrides):
    with open(os.path.join(directory, f"{key}.pem"), "rb") as f:
        private = serialization.load_pem_private_key(f.read(), password=None)
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    claims.update(overrides)
    return jwt.encode(claims, private, algorithm=alg, headers={"kid": kid})


def flight(args, bearer):
    with flightsql.connect(
        f"grpc+tls://localhost:{args.flight}",
        db_kwargs={
            "adbc.flight.sql.client_option.tls_root_certs": open(args.ca).read(),
            "adbc.flight.sql.authorization_header": f"Bearer {bearer}",
        },
    ) as conn:
        with conn.cursor() as cur:
            cur.execute(SQL)
            return cur.fetchall()


def http(args, bearer):
    context = ssl.create_default_context(cafile=args.ca)
    request = urllib.request.Request(
        f"https://localhost:{args.http}/v1/query",
        data=json.dumps({"sql": SQL}).encode(),
        headers={"Accept": "application/json", "Content-Type": "application/json",
                 "Authorization": f"Bearer {bearer}"},
    )
    try:
        with urllib.request.urlopen(request, context=context) as response:
            return json.load(response)["rows"]
    except urllib.error.HTTPError as e:
        return f"{e.code} {e.read().decode()}"


def trino_rows(args, bearer):
    session = requests.Session()
    session.trust_env = False
    session.verify = args.ca
    conn = trino.dbapi.connect(
        host="localhost", port=args.http, catalog="lake", schema="tpch", http_scheme="https",
        http_session=session, auth=trino.auth.JWTAuthentication(bearer),
    )
    cur = conn.cursor()
    cur.execute(SQL)
    return cur.fetchall()


def postgres(args, user, bearer):
    dsn = (f"host=localhost port={args.postgres} dbname=lake user={user} "
           f"sslmode=verify-full sslrootcert={args.ca}")
    with psycopg.connect(dsn, password=bearer, autocommit=True) as conn:
        return conn.execute(SQL).fetchall()


def refused(call, *words):
    try:
        answer = call()
    except Exception as e:  # noqa: BLE001 - the message is what is checked
        message = str(e)
        return all(w in message for w in words), message
    if isinstance(answer, str):
        return all(w in answer for w in words) and answer.startswith("401"), answer
    return False, f"accepted: {answer}"


def run_checks(args):
    d = args.dir
    analyst = token(d, "rsa1", "RS256", "rsa1", sub="carol", groups=["analysts"])
    ec_analyst = token(d, "ec1", "ES256", "ec1", sub="erin", groups=["analysts"])
    outsider = token(d, "ec1", "ES256", "ec1", sub="dave")
    expired = token(d, "rsa1", "RS256", "rsa1", sub="carol", groups=["analysts"],
                    exp=int(time.time()) - 3600)
    wrong_audience = token(d, "rsa1", "RS256", "rsa1", sub="carol", aud="someone-else")
    forged = token(d, "other", "RS256", "rsa1", sub="carol", groups=["analysts"])

    check(flight(args, analyst) == [(5,)], "ADBC: an RS256 token with the analysts group reads")
    check(flight(args, ec_analyst) == [(5,)], "ADBC: an ES256 token reads")
    check(http(args, analyst) == [[5]], "HTTP: a bearer JWT reads")
    check(trino_rows(args, analyst) == [[5]], "Trino: JWTAuthentication reads")
    check(postgres(args, "carol", analyst) == [(5,)], "PostgreSQL: a JWT as password reads")

    ok, message = refused(lambda: flight(args, outsider), "Access Denied")
    check(ok, f"ADBC: a token without the group reads nothing ({message[:120]})")
    ok, message = refused(lambda: postgres(args, "dave", outsider), "Access Denied")
    check(ok, f"PostgreSQL: the group comes from the token ({message[:120]})")
    for name, bad, reason in [
        ("expired", expired, "expired"),
        ("wrong audience", wrong_audience, "audience"),
        ("bad signature", forged, "signature"),
    ]:
        ok, message = refused(lambda: flight(args, bad), "JWT refused", reason)
        check(ok, f"ADBC: {name} token refused with the reason ({message[:160]})")
        ok, message = refused(lambda: http(args, bad), "JWT refused", reason)
        check(ok, f"HTTP: {name} token refused with the reason ({message[:160]})")
        ok, message = refused(lambda: postgres(args, "carol", bad), "JWT refused", reason)
        check(ok, f"PostgreSQL: {name} token refused with the reason ({message[:160]})")
        ok, message = refused(lambda: trino_rows(args, bad), "JWT refused", reason)
        check(ok, f"Trino: {name} token refused with the reason ({message[:160]})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["keys", "check"])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--flight", type=int)
    parser.add_argument("--http", type=int)
    parser.add_argument("--postgres", type=int)
    parser.add_argument("--ca")
    args = parser.parse_args()
    if args.mode == "keys":
        keys(args.dir)
    else:
        run_checks(args)


if __name__ == "__main__":
    main()
