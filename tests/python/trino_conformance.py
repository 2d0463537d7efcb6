"""Runs the Trino SQL conformance corpus (tests/trino_sql/*.sql) against a running lakegate,
through the Trino protocol with the `trino` client and through Flight SQL with ADBC after
`SET dialect = trino`, and prints passed/total per function family and front end.

Run by tests/trino_sql.rs:

    trino_conformance.py --corpus DIR --http-port P --flight-port F --min-pass-rate R

Each corpus file is SQL as Trino's function documentation writes its examples: a statement
ending in `;`, then its documented result as a `-- result` comment (on the same line or the
next). The results are the documentation's, never lakegate's. A value is compared as a Trino
client shows it: `NULL`, `true`, `[1, 2]`, `{k=v}`, timestamps as text; quotes, whitespace
and trailing zero fractions of a second are not significant, and numbers compare with a
relative tolerance. Rows compare in order only where the query fixes it: the rows of a query
without a top-level ORDER BY, or with FETCH ... WITH TIES (ties come in any order), compare as
a multiset. Exits non-zero when either front end passes less than R of the cases.
"""

import argparse
import base64
import datetime
import decimal
import math
import pathlib
import re
import sys

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import trino


def parse_corpus(path):
    """(sql, expected) pairs of one corpus file."""
    cases = []
    statement = []
    pending = None
    for raw in path.read_text().splitlines():
        line = raw.rstrip()
        if pending is not None:
            comment = line.strip()
            if comment.startswith("--"):
                cases.append((pending, comment[2:].strip()))
                pending = None
                continue
            raise ValueError(f"{path.name}: no `-- result` after {pending!r}")
        if not statement and (not line.strip() or line.lstrip().startswith(("#", "--"))):
            continue
        code, sep, comment = split_comment(line)
        statement.append(code)
        if code.rstrip().endswith(";"):
            sql = "\n".join(statement).strip().rstrip(";").strip()
            statement = []
            if sep:
                cases.append((sql, comment.strip()))
            else:
                pending = sql
    if statement or pending is not None:
        raise ValueError(f"{path.name}: the last case has no `;` or no result")
    return cases


def split_comment(line):
    """The code of a line and the `--` comment after it, outside string literals."""
    quoted = False
    i = 0
    while i < len(line):
        c = line[i]
        if c == "'":
            quoted = not quoted
        elif not quoted and line.startswith("--", i):
            return line[:i], "--", line[i + 2 :]
        i += 1
    return line, "", ""


def render(value):
    """A value as the Trino CLI prints it."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if type(value).__name__ == "MonthDayNano":
        return interval(value.months, value.days, value.nanoseconds)
    if isinstance(value, datetime.timedelta):
        return interval(0, value.days, (value.seconds * 10**6 + value.microseconds) * 1000)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(render(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{render(k)}={render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, datetime.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        if value.tzinfo is not None:
            # The zone as it was named (`America/Los_Angeles`, `+01:00`), not its abbreviation.
            tz = value.tzinfo
            name = getattr(tz, "key", None) or getattr(tz, "zone", None) or value.tzname() or ""
            text += " " + (name[3:] if name.startswith("UTC") and len(name) > 3 else name)
        return text
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def interval(months, days, nanos):
    """An interval as the Trino CLI prints it: `Y-M`, or `D HH:MM:SS.mmm` for days to seconds."""
    def year_month(m):
        return f"{'-' if m < 0 else ''}{abs(m) // 12}-{abs(m) % 12}"

    if days == 0 and nanos == 0:
        return year_month(months)
    total = days * 86_400 * 10**9 + nanos
    millis = abs(total) // 10**6
    seconds, millis = divmod(millis, 1000)
    text = (
        f"{'-' if total < 0 else ''}{seconds // 86400} {seconds % 86400 // 3600:02}:"
        f"{seconds % 3600 // 60:02}:{seconds % 60:02}.{millis:03}"
    )
    return text if months == 0 else f"{year_month(months)} {text}"


def normalise(text):
    text = text.strip()
    if text.upper().startswith("JSON '") and text.endswith("'"):
        text = text[6:-1]
    text = re.sub(r"\bROW\(", "(", text)
    text = text.replace("->", "=")
    text = re.sub(r"(\d{2}:\d{2}:\d{2}\.\d*?)0+\b", r"\1", text)
    text = re.sub(r"(\d{2}:\d{2}:\d{2})\.(?!\d)", r"\1", text)
    text = text.replace("'", "")
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"\b(true|false)\b", lambda m: m.group(1).lower(), text, flags=re.IGNORECASE)
    return re.sub(r"\bnull\b", "NULL", text, flags=re.IGNORECASE)


def same(actual, expected):
    a, e = normalise(actual), normalise(expected)
    if a == e:
        return True
    try:
        x, y = float(a), float(e)
    except ValueError:
        return False
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


def ordered(sql):
    """Whether the query's top level has an ORDER BY that fixes the order of all its rows."""
    depth, quoted, top = 0, False, []
    for c in sql:
        if c == "'":
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
        top.append(c if depth == 0 and not quoted and c not in "()" else " ")
    text = re.sub(r"\s+", " ", "".join(top)).upper()
    return " ORDER BY " in f" {text} " and "WITH TIES" not in text


def elements(text):
    """The top-level items of a normalised `[a, (b, c), ...]` listing, or None."""
    if not (text.startswith("[") and text.endswith("]")):
        return None
    items, depth, start = [], 0, 1
    for i, c in enumerate(text[1:-1], start=1):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:-1])
    return [] if items == [""] else items


def same_rows(actual, expected, sql):
    """`same`, with the rows of a query whose order is not fixed compared as a multiset."""
    if same(actual, expected):
        return True
    if ordered(sql):
        return False
    a, e = elements(normalise(actual)), elements(normalise(expected))
    if a is None or e is None or len(a) != len(e):
        return False
    return all(same(x, y) for x, y in zip(sorted(a), sorted(e)))


def trino_type(text):
    """A Trino type string as a tree: ("array", T), ("map", K, V), ("row", [T...]) or a name."""
    text = text.strip()
    head, _, rest = text.partition("(")
    head = head.strip().lower()
    if head not in ("array", "map", "row") or not rest.endswith(")"):
        return head
    parts, depth, start = [], 0, 0
    inner = rest[:-1]
    for i, c in enumerate(inner):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    if head == "row":
        # `name type` or just `type`
        fields = []
        for part in parts:
            words = part.strip().split(" ", 1)
            fields.append(trino_type(words[1] if len(words) == 2 and "(" not in words[0] else part))
        return ("row", fields)
    return (head, *[trino_type(p) for p in parts])


def shaped(value, kind):
    """A raw Trino JSON value with its rows as tuples (the raw protocol sends rows as lists)
    and varbinary as bytes (the protocol sends base64; the CLI shows the bytes in hex)."""
    if kind == "varbinary" and isinstance(value, str):
        return base64.b64decode(value)
    if value is None or isinstance(kind, str):
        return value
    if kind[0] == "array":
        return [shaped(v, kind[1]) for v in value]
    if kind[0] == "map":
        return {k: shaped(v, kind[2]) for k, v in value.items()}
    return tuple(shaped(v, k) for v, k in zip(value, kind[1]))


def arrow_shaped(value, arrow_type):
    """An Arrow value from to_pylist with its structs as tuples, as Trino shows rows."""
    import pyarrow as pa

    if value is None:
        return None
    if pa.types.is_struct(arrow_type):
        return tuple(arrow_shaped(value[f.name], f.type) for f in arrow_type)
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return [arrow_shaped(v, arrow_type.value_type) for v in value]
    if pa.types.is_map(arrow_type):
        return {k: arrow_shaped(v, arrow_type.item_type) for k, v in value.items()}
    return value


def zone_named(name):
    """A zone Arrow names: an IANA name, or a fixed `+hh:mm` offset."""
    import zoneinfo

    offset = re.fullmatch(r"([+-])(\d{2}):(\d{2})", name)
    if offset is None:
        return zoneinfo.ZoneInfo(name)
    sign = -1 if offset.group(1) == "-" else 1
    minutes = int(offset.group(2)) * 60 + int(offset.group(3))
    return datetime.timezone(datetime.timedelta(minutes=sign * minutes))


def nanos_as_text(table):
    """Timestamps Python's datetime cannot carry as Trino prints them: nanoseconds (datetime
    stops at microseconds) and zones that are fixed offsets (`-08:30`, which pyarrow does not
    read as a zone)."""
    import datetime

    import pyarrow as pa

    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
    for i, field in enumerate(table.schema):
        kind = field.type
        if not pa.types.is_timestamp(kind):
            continue
        offset = bool(kind.tz) and re.fullmatch(r"[+-]\d{2}:\d{2}", kind.tz) is not None
        if kind.unit != "ns" and not offset:
            continue
        zone = zone_named(kind.tz) if kind.tz else None
        unit = per_second[kind.unit]
        digits = len(str(unit)) - 1
        texts = []
        for count in table.column(i).cast(pa.int64()).to_pylist():
            if count is None:
                texts.append(None)
                continue
            seconds, fraction = divmod(count, unit)
            moment = datetime.datetime.fromtimestamp(seconds, tz=zone or datetime.timezone.utc)
            text = f"{moment:%Y-%m-%d %H:%M:%S}" + (f".{fraction:0{digits}d}" if digits else "")
            texts.append(f"{text} {kind.tz}" if zone else text)
        table = table.set_column(i, field.name, pa.array(texts, pa.string()))
    return table


def answer(cursor, sql):
    cursor.execute(sql)
    if hasattr(cursor, "fetch_arrow_table"):
        # ADBC: maps as dicts and structs as tuples, as the Trino client shows them.
        table = nanos_as_text(cursor.fetch_arrow_table())
        types = [f.type for f in table.schema]
        rows = [
            [arrow_shaped(v, t) for v, t in zip(r.values(), types)]
            for r in table.to_pylist(maps_as_pydicts="strict")
        ]
    else:
        rows = cursor.fetchall()
        kinds = [trino_type(d[1]) for d in cursor.description or []]
        rows = [[shaped(v, k) for v, k in zip(r, kinds)] for r in rows]
    if len(rows) == 1:
        return " | ".join(render(v) for v in rows[0])
    # Several rows: a list of them, each a tuple when it has several columns.
    return render([tuple(r) if len(r) > 1 else r[0] for r in rows])


def run(name, cursor, families, failures):
    counts = {}
    for family, cases in families:
        passed = 0
        for sql, expected in cases:
            try:
                actual = answer(cursor, sql)
            except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
                actual = f"error: {str(e).splitlines()[0][:200]}"
            if same_rows(actual, expected, sql):
                passed += 1
            else:
                failures.append((name, family, sql, expected, actual))
        counts[family] = (passed, len(cases))
    return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--flight-port", type=int, required=True)
    parser.add_argument("--min-pass-rate", type=float, required=True)
    args = parser.parse_args()

    families = [
        (path.stem, parse_corpus(path))
        for path in sorted(pathlib.Path(args.corpus).glob("*.sql"))
    ]
    total = sum(len(cases) for _, cases in families)
    failures = []

    trino_conn = trino.dbapi.connect(
        host="127.0.0.1",
        port=args.http_port,
        user="ana",
        catalog="lake",
        schema="tpch",
        legacy_primitive_types=True,
    )
    by_trino = run("trino", trino_conn.cursor(), families, failures)

    flight_conn = flight_sql.connect(
        f"grpc://127.0.0.1:{args.flight_port}",
        db_kwargs={
            adbc_driver_manager.DatabaseOptions.USERNAME.value: "ana",
            adbc_driver_manager.DatabaseOptions.PASSWORD.value: "ana",
        },
    )
    flight_cursor = flight_conn.cursor()
    flight_cursor.execute("SET dialect = trino")
    by_flight = run("flight_sql", flight_cursor, families, failures)

    for front_end, family, sql, expected, actual in failures:
        print(f"FAIL [{front_end}/{family}] {sql!r}\n     expected {expected!r}\n     got      {actual!r}")
    ok = True
    for front_end, counts in (("trino", by_trino), ("flight_sql", by_flight)):
        passed = sum(p for p, _ in counts.values())
        print(f"{front_end}: {passed}/{total} passed ({passed / max(total, 1):.1%})")
        for family, (p, n) in counts.items():
            print(f"  {family}: {p}/{n}")
        if passed < args.min_pass_rate * total:
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
