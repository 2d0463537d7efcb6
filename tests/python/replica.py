"""A lake as a CDC read replica leaves it, and lakegate's answers over it checked against
other readers of the same snapshots.

    replica.py build --out MANIFEST [catalog options]
        writes the merge-on-read tables of namespace `replica` with real writers and records
        their snapshots in MANIFEST (JSON)
    replica.py check --manifest MANIFEST --flight PORT [catalog options]
        asks lakegate (Flight SQL, through the ADBC driver) and DuckDB (or pyiceberg) the same
        questions about every snapshot and exits non-zero with every difference listed

Catalog options: `--rest URL` (an Iceberg REST catalog) with `--credential ID:SECRET` when it
wants OAuth2 client credentials, `--s3 ENDPOINT` with `--s3-key ID:SECRET` for its storage, and
`--sqlite URI --warehouse DIR` when pyiceberg should write the SQL catalog directly.

Writers: DuckDB 1.5 writes position deletes (format v2) and deletion vectors (v3) through the
REST catalog; pyiceberg writes appends, schema and partition evolution, branches and tags;
equality deletes are Parquet files written here with pyarrow to the Iceberg spec and committed
as a delete manifest in a new snapshot through pyiceberg's commit (neither DuckDB nor pyiceberg
nor iceberg-rust 0.10 has an action that commits them).
"""

import argparse
import datetime
import decimal
import glob
import importlib
import json
import math
import os
import re
import sys
import time
import uuid

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog import load_catalog
from pyiceberg.manifest import (
    DataFile,
    DataFileContent,
    FileFormat,
    ManifestContent,
    ManifestEntry,
    ManifestEntryStatus,
    ManifestWriterV2,
    write_manifest_list,
)
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table.snapshots import Operation, Snapshot, Summary
from pyiceberg.table.update import AddSnapshotUpdate, AssertRefSnapshotId, SetSnapshotRefUpdate
from pyiceberg.transforms import BucketTransform, DayTransform, IdentityTransform, TruncateTransform
from pyiceberg.typedef import Record
from pyiceberg.types import (
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestampType,
)

NAMESPACE = "replica"


# ---------------------------------------------------------------- connections


def duckdb_connection(args):
    """DuckDB with the Iceberg extension (from PyPI, no download) attached to the catalog."""
    con = duckdb.connect(
        config={
            "allow_unsigned_extensions": "true",
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
        }
    )
    for name in ["httpfs", "avro", "iceberg"]:
        module = importlib.import_module(f"duckdb_extension_{name}")
        path = glob.glob(os.path.join(os.path.dirname(module.__file__), f"extensions/*/{name}.duckdb_extension"))[0]
        con.execute(f"LOAD '{path}'")
    if args.s3:
        key, secret = args.s3_key.split(":", 1)
        endpoint = args.s3.split("://", 1)[-1]
        con.execute(
            f"CREATE SECRET s3 (TYPE S3, KEY_ID '{key}', SECRET '{secret}', ENDPOINT '{endpoint}', "
            "URL_STYLE 'path', USE_SSL false, REGION 'us-east-1')"
        )
    if args.credential:
        client, secret = args.credential.split(":", 1)
        auth = (
            f"AUTHORIZATION_TYPE 'oauth2', CLIENT_ID '{client}', CLIENT_SECRET '{secret}', "
            f"OAUTH2_SERVER_URI '{args.rest.rstrip('/')}/v1/oauth/tokens'"
        )
    else:
        auth = "AUTHORIZATION_TYPE 'none'"
    con.execute(f"ATTACH '{args.warehouse_name}' AS lake (TYPE iceberg, ENDPOINT '{args.rest}', {auth})")
    return con


def pyiceberg_catalog(args):
    if args.sqlite:
        return load_catalog("lake", type="sql", uri=args.sqlite, warehouse=args.warehouse)
    properties = {"type": "rest", "uri": args.rest, "warehouse": args.warehouse_name}
    if args.credential:
        properties["credential"] = args.credential
    if args.s3:
        key, secret = args.s3_key.split(":", 1)
        properties.update(
            {
                "s3.endpoint": args.s3,
                "s3.access-key-id": key,
                "s3.secret-access-key": secret,
                "s3.region": "us-east-1",
                "s3.path-style-access": "true",
            }
        )
    return load_catalog("lake", **properties)


def current_snapshot(catalog, table):
    return catalog.load_table((NAMESPACE, table)).metadata.current_snapshot_id


# ---------------------------------------------------------------- writers


def write_duckdb_table(con, catalog, table, format_version):
    """Appends in several commits, then deletes and updates in several more: every commit is
    a snapshot the check reads back."""
    name = f"lake.{NAMESPACE}.{table}"
    con.execute(
        f"CREATE TABLE {name} (id BIGINT, name VARCHAR, amount DECIMAL(12,2), day DATE) "
        f"WITH ('format-version'='{format_version}')"
    )
    snapshots = []

    def commit(sql):
        con.execute(sql)
        snapshots.append(current_snapshot(catalog, table))

    for part in range(3):
        low, high = part * 40_000, (part + 1) * 40_000
        commit(
            f"INSERT INTO {name} SELECT range, 'n' || range, (range % 1000) / 10, "
            f"DATE '2024-01-01' + CAST(range % 365 AS INTEGER) FROM range({low}, {high})"
        )
    commit(f"DELETE FROM {name} WHERE id % 7 = 0")
    # Deletes for part of one file only.
    commit(f"DELETE FROM {name} WHERE id BETWEEN 1000 AND 1999")
    commit(f"UPDATE {name} SET amount = amount + 1 WHERE id % 11 = 0")
    commit(f"INSERT INTO {name} SELECT range, 'late', 1.5, DATE '2025-01-01' FROM range(200000, 200100)")
    commit(f"DELETE FROM {name} WHERE id >= 200050 OR id % 13 = 0")
    return snapshots


def data_file_schema(fields):
    return pa.schema(
        [pa.field(name, typ, nullable=True, metadata={b"PARQUET:field_id": str(field_id).encode()}) for field_id, name, typ in fields]
    )


class DeleteManifestWriter(ManifestWriterV2):
    """pyiceberg writes data manifests only; a delete manifest differs in its content."""

    def content(self):
        return ManifestContent.DELETES

    @property
    def _meta(self):
        return {**super()._meta, "content": "deletes"}


def commit_equality_deletes(table, field_ids, rows, partition=None, spec_id=0):
    """Writes `rows` (a pyarrow table of the equality columns) as an equality delete file and
    commits it in a new snapshot."""
    metadata = table.metadata
    schema = table.schema()
    fields = [(fid, schema.find_field(fid).name, rows.schema.field(schema.find_field(fid).name).type) for fid in field_ids]
    arrow = pa.Table.from_arrays([rows.column(name) for _, name, _ in fields], schema=data_file_schema(fields))
    path = f"{table.location()}/data/{uuid.uuid4()}-eq-deletes.parquet"
    with table.io.new_output(path).create() as stream:
        pq.write_table(arrow, stream)
    size = len(table.io.new_input(path).open().read())
    data_file = DataFile.from_args(
        content=DataFileContent.EQUALITY_DELETES,
        file_path=path,
        file_format=FileFormat.PARQUET,
        partition=Record(*partition) if partition else Record(),
        record_count=arrow.num_rows,
        file_size_in_bytes=size,
        equality_ids=list(field_ids),
        column_sizes={},
        value_counts={fid: arrow.num_rows for fid in field_ids},
        null_value_counts={},
        nan_value_counts={},
        lower_bounds={},
        upper_bounds={},
    )
    data_file.spec_id = spec_id
    parent = table.current_snapshot()
    snapshot_id = abs(uuid.uuid4().int >> 65)
    sequence_number = metadata.next_sequence_number()
    manifest_path = f"{table.location()}/metadata/{uuid.uuid4()}-m0.avro"
    writer = DeleteManifestWriter(metadata.specs()[spec_id], schema, table.io.new_output(manifest_path), snapshot_id, "deflate")
    with writer:
        writer.add(
            ManifestEntry.from_args(
                status=ManifestEntryStatus.ADDED,
                snapshot_id=snapshot_id,
                sequence_number=None,
                file_sequence_number=None,
                data_file=data_file,
            )
        )
    manifests = parent.manifests(table.io) + [writer.to_manifest_file()]
    list_path = f"{table.location()}/metadata/snap-{snapshot_id}-0-{uuid.uuid4()}.avro"
    with write_manifest_list(
        format_version=2,
        output_file=table.io.new_output(list_path),
        snapshot_id=snapshot_id,
        parent_snapshot_id=parent.snapshot_id,
        sequence_number=sequence_number,
        avro_compression="deflate",
    ) as manifest_list:
        manifest_list.add_manifests(manifests)
    snapshot = Snapshot(
        snapshot_id=snapshot_id,
        parent_snapshot_id=parent.snapshot_id,
        sequence_number=sequence_number,
        timestamp_ms=int(time.time() * 1000),
        manifest_list=list_path,
        summary=Summary(
            operation=Operation.DELETE,
            **{"added-delete-files": "1", "added-equality-deletes": str(arrow.num_rows), "added-equality-delete-files": "1"},
        ),
        schema_id=schema.schema_id,
    )
    with table.transaction() as tx:
        tx._apply(
            (AddSnapshotUpdate(snapshot=snapshot), SetSnapshotRefUpdate(snapshot_id=snapshot_id, ref_name="main", type="branch")),
            (AssertRefSnapshotId(snapshot_id=parent.snapshot_id, ref="main"),),
        )
    return snapshot_id


def write_equality_tables(catalog):
    """A partitioned table deleted by key within a partition, and an unpartitioned one deleted
    globally by a second column (NULL matching NULL), with a row re-inserted after its delete."""
    snapshots = {}
    schema = Schema(
        NestedField(1, "id", LongType(), required=False),
        NestedField(2, "region", StringType(), required=False),
        NestedField(3, "amount", DoubleType(), required=False),
        NestedField(4, "note", StringType(), required=False),
    )
    arrow_schema = pa.schema(
        [("id", pa.int64()), ("region", pa.string()), ("amount", pa.float64()), ("note", pa.string())]
    )

    def batch(ids, region, note):
        return pa.Table.from_pylist(
            [{"id": i, "region": region, "amount": i * 0.25, "note": note(i)} for i in ids], schema=arrow_schema
        )

    spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=IdentityTransform(), name="region"))
    table = catalog.create_table((NAMESPACE, "eq_part"), schema=schema, partition_spec=spec)
    taken = []
    for region, ids in [("a", range(0, 30_000)), ("b", range(30_000, 60_000)), ("a", range(60_000, 90_000))]:
        table.append(batch(ids, region, lambda i: None if i % 5 == 0 else f"n{i % 50}"))
        taken.append(table.metadata.current_snapshot_id)
    table = catalog.load_table((NAMESPACE, "eq_part"))
    deleted = pa.table({"id": pa.array([i for i in range(0, 90_000, 3)], pa.int64())})
    taken.append(commit_equality_deletes(table, [1], deleted, partition=["a"], spec_id=0))
    table = catalog.load_table((NAMESPACE, "eq_part"))
    # Id 3 comes back after its delete: a later sequence number is not deleted by it.
    table.append(batch([3, 6, 9], "a", lambda i: "back"))
    taken.append(table.metadata.current_snapshot_id)
    snapshots["eq_part"] = taken

    table = catalog.create_table((NAMESPACE, "eq_global"), schema=schema)
    taken = []
    for ids in [range(0, 20_000), range(20_000, 40_000)]:
        table.append(batch(ids, "g", lambda i: None if i % 5 == 0 else f"n{i % 50}"))
        taken.append(table.metadata.current_snapshot_id)
    table = catalog.load_table((NAMESPACE, "eq_global"))
    deleted = pa.table({"note": pa.array(["n1", "n7", None], pa.string())})
    taken.append(commit_equality_deletes(table, [4], deleted))
    table = catalog.load_table((NAMESPACE, "eq_global"))
    deleted = pa.table({"id": pa.array(list(range(100, 200)), pa.int64()), "region": pa.array(["g"] * 100, pa.string())})
    taken.append(commit_equality_deletes(table, [1, 2], deleted))
    snapshots["eq_global"] = taken
    return snapshots


def write_evolution_table(catalog):
    """Columns added, dropped, renamed, reordered (two of the same type trading places) and
    promoted; the partition spec moved from identity to day, bucket and truncate; data appended
    under every schema and spec."""
    schema = Schema(
        NestedField(1, "id", IntegerType(), required=False),
        NestedField(2, "name", StringType(), required=False),
        NestedField(3, "price", FloatType(), required=False),
        NestedField(4, "amount", DecimalType(9, 2), required=False),
        NestedField(5, "category", StringType(), required=False),
        NestedField(6, "ts", TimestampType(), required=False),
        NestedField(7, "scratch", StringType(), required=False),
        NestedField(8, "label", StringType(), required=False),
    )
    spec = PartitionSpec(PartitionField(source_id=5, field_id=1000, transform=IdentityTransform(), name="category"))
    table = catalog.create_table((NAMESPACE, "evolving"), schema=schema, partition_spec=spec)
    taken = []

    def append(rows):
        nonlocal table
        # Plain `string` columns (pyiceberg's default is `large_string`), as most writers
        # store them: same-typed columns are what a reader can confuse when they move.
        schema = pa.schema(
            [f.with_type(pa.string()) if f.type == pa.large_string() else f for f in table.schema().as_arrow()]
        )
        arrow = pa.Table.from_pylist(rows, schema=schema)
        table.append(arrow)
        table = catalog.load_table((NAMESPACE, "evolving"))
        taken.append(table.metadata.current_snapshot_id)

    start = datetime.datetime(2024, 3, 1)
    append(
        [
            {
                "id": i,
                "name": f"item{i}",
                "price": i / 4,
                "amount": decimal.Decimal(i) / 4,
                "category": "c" + str(i % 3),
                "ts": start + datetime.timedelta(hours=i),
                "scratch": "x",
                "label": f"label{i % 7}",
            }
            for i in range(500)
        ]
    )
    with table.update_schema() as update:
        update.add_column("extra", StringType())
        update.rename_column("name", "title")
        update.update_column("id", LongType())
        update.update_column("price", DoubleType())
        update.update_column("amount", DecimalType(18, 2))
        update.delete_column("scratch")
        update.move_first("name")
        # Two string columns trade places: files written before keep the old order.
        update.move_before("label", "category")
    table = catalog.load_table((NAMESPACE, "evolving"))
    with table.update_spec() as update:
        update.remove_field("category")
        update.add_field("ts", DayTransform(), "ts_day")
    table = catalog.load_table((NAMESPACE, "evolving"))
    append(
        [
            {
                "id": 3_000_000_000 + i,
                "title": f"late{i}",
                "price": i / 8,
                "amount": (decimal.Decimal(i) / 8).quantize(decimal.Decimal("0.01")) + decimal.Decimal("1000000.00"),
                "category": "d",
                "ts": start + datetime.timedelta(days=i % 20),
                "extra": None if i % 2 else f"e{i}",
                "label": "late",
            }
            for i in range(300)
        ]
    )
    with table.update_spec() as update:
        update.remove_field("ts_day")
        update.add_field("id", BucketTransform(4), "id_bucket")
        update.add_field("title", TruncateTransform(2), "title_trunc")
    table = catalog.load_table((NAMESPACE, "evolving"))
    append(
        [
            {
                "id": 10_000 + i,
                "title": f"zz{i}",
                "price": 2.5,
                "amount": decimal.Decimal("7.25"),
                "category": "e",
                "ts": start,
                "extra": "last",
                "label": "last",
            }
            for i in range(200)
        ]
    )
    return taken


def build(args):
    catalog = pyiceberg_catalog(args)
    catalog.create_namespace_if_not_exists(NAMESPACE)
    con = duckdb_connection(args)
    manifest = {"tables": {}}
    manifest["tables"]["pos_deletes"] = write_duckdb_table(con, catalog, "pos_deletes", 2)
    if not args.no_v3:
        manifest["tables"]["vectors"] = write_duckdb_table(con, catalog, "vectors", 3)
    manifest["tables"].update(write_equality_tables(catalog))
    manifest["tables"]["evolving"] = write_evolution_table(catalog)
    # A tag before the first delete and a branch at the partial delete.
    table = catalog.load_table((NAMESPACE, "pos_deletes"))
    snapshots = manifest["tables"]["pos_deletes"]
    table.manage_snapshots().create_tag(snapshots[2], "before_deletes").create_branch(snapshots[4], "audit").commit()
    manifest["refs"] = {"before_deletes": snapshots[2], "audit": snapshots[4]}
    with open(args.out, "w") as out:
        json.dump(manifest, out, indent=1)


# ---------------------------------------------------------------- comparison


def normalise(value):
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, decimal.Decimal):
        return round(float(value), 6)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def rows_of(arrow_table):
    columns = [arrow_table.column(i).to_pylist() for i in range(arrow_table.num_columns)]
    return [tuple(normalise(c[r]) for c in columns) for r in range(arrow_table.num_rows)]


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def diff(expected, actual):
    """The first difference between two row lists compared as sorted multisets, or None."""
    key = lambda row: tuple((v is None, str(v)) for v in row)  # noqa: E731
    expected, actual = sorted(expected, key=key), sorted(actual, key=key)
    if len(expected) != len(actual):
        return f"{len(expected)} rows expected, {len(actual)} returned"
    for e, a in zip(expected, actual):
        if len(e) != len(a) or not all(same(x, y) for x, y in zip(e, a)):
            return f"row {e} expected, got {a}"
    return None


class Check:
    def __init__(self, args):
        import adbc_driver_flightsql.dbapi as flightsql

        self.lakegate = flightsql.connect(f"grpc://127.0.0.1:{args.flight}")
        self.duck = duckdb_connection(args)
        self.catalog = pyiceberg_catalog(args)
        self.failures = []
        self.passed = 0

    def lakegate_rows(self, sql):
        with self.lakegate.cursor() as cur:
            cur.execute(sql)
            return rows_of(cur.fetch_arrow_table())

    def lakegate_error(self, sql):
        try:
            self.lakegate_rows(sql)
        except Exception as e:  # noqa: BLE001 - the message is what is checked
            return str(e)
        return None

    def duck_rows(self, sql):
        return rows_of(self.duck.execute(sql).to_arrow_table())

    def compare(self, name, expected, actual):
        problem = diff(expected, actual)
        if problem:
            self.failures.append(f"{name}: {problem}")
        elif not expected:
            self.failures.append(f"{name}: the reference has no rows, the check proves nothing")
        else:
            self.passed += 1

    def expect(self, name, condition, detail):
        if condition:
            self.passed += 1
        else:
            self.failures.append(f"{name}: {detail}")


def equality_reference(table, snapshot_id):
    """Iceberg's equality delete rule applied here, independently of any reader: a delete file
    removes the rows of data files with a lower sequence number, in its own partition (in every
    partition when it was written unpartitioned), whose equality columns equal one of its rows,
    NULL equal to NULL. (DuckDB 1.5 applies partition-scoped equality deletes to every
    partition, so it cannot be the reference here.)"""

    def read(path):
        return pq.read_table(pa.BufferReader(table.io.new_input(path).open().read())).to_pylist()

    entries = [e for e in table.inspect.entries(snapshot_id=snapshot_id).to_pylist() if e["status"] != 2]
    deletes = [e for e in entries if e["data_file"]["content"] == 2]
    names = [f.name for f in table.schema().fields]
    rows = []
    for data in (e for e in entries if e["data_file"]["content"] == 0):
        kept = read(data["data_file"]["file_path"])
        for delete in deletes:
            scoped = delete["data_file"]["partition"]
            if delete["sequence_number"] <= data["sequence_number"]:
                continue
            if scoped and scoped != data["data_file"]["partition"]:
                continue
            columns = [table.schema().find_field(i).name for i in delete["data_file"]["equality_ids"]]
            keys = {tuple(r[c] for c in columns) for r in read(delete["data_file"]["file_path"])}
            kept = [r for r in kept if tuple(r[c] for c in columns) not in keys]
        rows += [tuple(normalise(r[n]) for n in names) for r in kept]
    return rows


def reference_rows(check, table, snapshot):
    """`SELECT *` of `table` at `snapshot` as another reader answers it."""
    if table == "evolving":
        return rows_of(check.catalog.load_table((NAMESPACE, table)).scan(snapshot_id=snapshot).to_arrow())
    if table.startswith("eq_"):
        return equality_reference(check.catalog.load_table((NAMESPACE, table)), snapshot)
    return check.duck_rows(f"SELECT * FROM lake.{NAMESPACE}.{table} AT (VERSION => {snapshot})")


def check_data(check, manifest):
    """Every snapshot of every table, read by lakegate and by another reader: DuckDB for the
    tables it wrote, pyiceberg for the one whose schema and specs evolved, the rule itself for
    equality deletes (and DuckDB too where it agrees with the rule: global deletes)."""
    for table, snapshots in manifest["tables"].items():
        for snapshot in snapshots:
            ours = check.lakegate_rows(f"SELECT * FROM {NAMESPACE}.{table} FOR VERSION AS OF {snapshot}")
            check.compare(f"{table} @ {snapshot}", reference_rows(check, table, snapshot), ours)
        latest = reference_rows(check, table, snapshots[-1])
        check.compare(f"{table} current", latest, check.lakegate_rows(f"SELECT * FROM {NAMESPACE}.{table}"))
        if table in ("pos_deletes", "vectors", "eq_part", "eq_global"):
            ids = [row[0] for row in latest]
            check.compare(
                f"{table} aggregate",
                [(len(ids), sum(ids), min(ids), max(ids))],
                check.lakegate_rows(f"SELECT count(*), sum(id), min(id), max(id) FROM {NAMESPACE}.{table}"),
            )
            # A pushed predicate and deletes together (equality deletes keep the predicate).
            kept = [i for i in ids if 1000 <= i < 25000]
            check.compare(
                f"{table} filtered aggregate",
                [(len(kept), sum(kept))],
                check.lakegate_rows(f"SELECT count(*), sum(id) FROM {NAMESPACE}.{table} WHERE id >= 1000 AND id < 25000"),
            )
    # Two string columns that traded places, selected alone: files written before the move
    # hold them in the other order.
    evolving = check.catalog.load_table((NAMESPACE, "evolving"))
    check.compare(
        "evolving label, category",
        rows_of(evolving.scan(selected_fields=("label", "category")).to_arrow().select(["label", "category"])),
        check.lakegate_rows(f"SELECT label, category FROM {NAMESPACE}.evolving"),
    )
    if "eq_global" in manifest["tables"]:
        check.compare(
            "eq_global as DuckDB reads it",
            check.duck_rows(f"SELECT * FROM lake.{NAMESPACE}.eq_global"),
            check.lakegate_rows(f"SELECT * FROM {NAMESPACE}.eq_global"),
        )
        # Selected columns that leave out the equality columns still drop deleted rows.
        check.compare(
            "eq_global without its key columns",
            [(row[2],) for row in reference_rows(check, "eq_global", manifest["tables"]["eq_global"][-1])],
            check.lakegate_rows(f"SELECT amount FROM {NAMESPACE}.eq_global"),
        )


def check_pruning(check):
    """Partition pruning still works on a table whose spec changed twice: each file is pruned by
    the spec it was written with (iceberg's planner) or by its column statistics."""
    import re

    import pyarrow.compute as pc

    table = check.catalog.load_table((NAMESPACE, "evolving"))
    all_files = len(table.inspect.files())
    rows = table.scan().to_arrow()
    day = (datetime.datetime(2024, 3, 5), datetime.datetime(2024, 3, 6))
    for predicate, mask in [
        ("category = 'c1'", pc.equal(rows["category"], "c1")),
        (
            "ts >= TIMESTAMP '2024-03-05 00:00:00' AND ts < TIMESTAMP '2024-03-06 00:00:00'",
            pc.and_(pc.greater_equal(rows["ts"], day[0]), pc.less(rows["ts"], day[1])),
        ),
    ]:
        sql = f"SELECT count(*) FROM {NAMESPACE}.evolving WHERE {predicate}"
        plan = "\n".join(str(v) for row in check.lakegate_rows(f"EXPLAIN {sql}") for v in row)
        planned = [int(n) for n in re.findall(r"IcebergScanExec: table=[^,]*, snapshot=\d+, files=(\d+)", plan)]
        check.expect(
            f"pruning {predicate}",
            planned and 0 < max(planned) < all_files,
            f"{planned} of {all_files} files planned:\n{plan}",
        )
        check.compare(f"count where {predicate}", [(pc.sum(mask).as_py(),)], check.lakegate_rows(sql))


def check_hidden_columns(check):
    """Trino's hidden columns: `"$path"` names each row's data file, `"$file_modified_time"`
    is that file's modification time in the store; `SELECT *` shows neither."""
    table = check.catalog.load_table((NAMESPACE, "evolving"))
    files = [r for r in table.inspect.files().to_pylist() if r["content"] == 0]
    check.compare(
        "$path",
        [(f["file_path"], f["record_count"]) for f in files],
        check.lakegate_rows(f'SELECT "$path", count(*) FROM {NAMESPACE}.evolving GROUP BY 1'),
    )
    rows = check.lakegate_rows(f'SELECT DISTINCT "$path", "$file_modified_time" FROM {NAMESPACE}.evolving')
    now = datetime.datetime.now(datetime.timezone.utc)
    for path, modified in rows:
        modified = datetime.datetime.fromisoformat(modified)
        if path.startswith("file://"):
            stat = os.stat(path[len("file://"):]).st_mtime
            expected = datetime.datetime.fromtimestamp(stat, datetime.timezone.utc)
            check.expect(f"$file_modified_time of {path}", abs((modified - expected).total_seconds()) < 0.002, f"{modified} is not {expected}")
        else:
            check.expect(f"$file_modified_time of {path}", now - datetime.timedelta(hours=1) < modified <= now, f"{modified}")
    with check.lakegate.cursor() as cur:
        cur.execute(f"SELECT * FROM {NAMESPACE}.evolving LIMIT 1")
        names = cur.fetch_arrow_table().column_names
    check.expect("SELECT * hides $path", not any(n.startswith("$") for n in names), f"{names}")


def check_front_ends(check, manifest, args):
    """Time travel and a metadata table through the PostgreSQL wire protocol (psycopg), the
    Trino client protocol (the `trino` client) and the HTTP JSON API, each equal to DuckDB."""
    import urllib.request

    import psycopg
    import trino

    snapshot = manifest["tables"]["pos_deletes"][3]
    sql = f"SELECT count(*), sum(id) FROM {NAMESPACE}.pos_deletes FOR VERSION AS OF {snapshot}"
    expected = check.duck_rows(f"SELECT count(*), sum(id) FROM lake.{NAMESPACE}.pos_deletes AT (VERSION => {snapshot})")
    files = f'SELECT count(*) FROM {NAMESPACE}."pos_deletes$files"'
    expected_files = [(len(check.catalog.load_table((NAMESPACE, "pos_deletes")).inspect.files()),)]
    with psycopg.connect(f"host=127.0.0.1 port={args.postgres} dbname=lake user=ana", autocommit=True) as conn:
        check.compare("PostgreSQL time travel", expected, [tuple(r) for r in conn.execute(sql).fetchall()])
        check.compare("PostgreSQL $files", expected_files, [tuple(r) for r in conn.execute(files).fetchall()])
    conn = trino.dbapi.connect(host="127.0.0.1", port=args.http, user="ana", catalog="lake", schema=NAMESPACE)
    cur = conn.cursor()
    cur.execute(sql)
    check.compare("Trino time travel", expected, [tuple(r) for r in cur.fetchall()])
    cur.execute(files)
    check.compare("Trino $files", expected_files, [tuple(r) for r in cur.fetchall()])
    request = urllib.request.Request(
        f"http://127.0.0.1:{args.http}/v1/query",
        data=json.dumps({"sql": sql}).encode(),
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        answer = json.load(response)
    check.compare("HTTP time travel", expected, [tuple(r) for r in answer["rows"]])


def check_show_stats(check, manifest, args):
    """Trino's `SHOW STATS FOR t` and `SHOW CREATE TABLE t` through the `trino` client, against
    pyiceberg's view of the same snapshot: the row count is the data files' records less the
    position-deleted rows (equal to `count(*)` where no equality deletes exist), each column's
    NULL fraction is its files' null counts over the records, and the range of an integer
    column is the least lower and greatest upper bound of its files."""
    import trino

    conn = trino.dbapi.connect(host="127.0.0.1", port=args.http, user="ana", catalog="lake", schema=NAMESPACE)
    cur = conn.cursor()
    for table in manifest["tables"]:
        iceberg_table = check.catalog.load_table((NAMESPACE, table))
        files = iceberg_table.inspect.files().to_pylist()
        data = [f for f in files if f["content"] == 0]
        records = sum(f["record_count"] for f in data)
        deleted = sum(f["record_count"] for f in files if f["content"] == 1)
        cur.execute(f"SHOW STATS FOR {NAMESPACE}.{table}")
        shown = cur.fetchall()
        names = [d[0] for d in cur.description]
        check.expect(
            f"SHOW STATS FOR {table} columns",
            names == ["column_name", "data_size", "distinct_values_count", "nulls_fraction", "row_count", "low_value", "high_value"],
            f"got {names}",
        )
        check.compare(f"SHOW STATS FOR {table} row count", [(records - deleted,)], [(int(shown[-1][4]),)])
        if not any(f["content"] == 2 for f in files):
            counted = check.lakegate_rows(f"SELECT count(*) FROM {NAMESPACE}.{table}")
            check.compare(f"SHOW STATS FOR {table} row count is count(*)", counted, [(int(shown[-1][4]),)])
        by_name = {row[0]: row for row in shown[:-1]}
        for field in iceberg_table.schema().fields:
            if not field.field_type.is_primitive:
                continue
            row = by_name.get(field.name)
            if row is None:
                check.expect(f"SHOW STATS FOR {table}.{field.name}", False, "no row for the column")
                continue
            metrics = [f["readable_metrics"][field.name] for f in data]
            nulls = [m["null_value_count"] for m in metrics]
            if records and None not in nulls:
                check.expect(
                    f"SHOW STATS FOR {table}.{field.name} nulls_fraction",
                    abs(row[3] - sum(nulls) / records) < 1e-9,
                    f"{sum(nulls) / records} expected, got {row[3]}",
                )
            if str(field.field_type) in ("int", "long"):
                valued = [m for m in metrics if m["value_count"] != m["null_value_count"]]
                lows = [m["lower_bound"] for m in valued]
                highs = [m["upper_bound"] for m in valued]
                if valued and None not in lows and None not in highs:
                    check.compare(
                        f"SHOW STATS FOR {table}.{field.name} range",
                        [(str(min(lows)), str(max(highs)))],
                        [(row[5], row[6])],
                    )
        cur.execute(f"SHOW CREATE TABLE {NAMESPACE}.{table}")
        (ddl,), = cur.fetchall()
        wanted = [f"CREATE TABLE lake.{NAMESPACE}.{table} (", f"location = '{iceberg_table.metadata.location}'"]
        wanted += [f"   {trino_identifier(field.name)} " for field in iceberg_table.schema().fields]
        wanted.append(f"format_version = {iceberg_table.metadata.format_version}")
        missing = [w for w in wanted if w not in ddl]
        check.expect(f"SHOW CREATE TABLE {table}", not missing, f"missing {missing} in {ddl!r}")


def trino_identifier(name):
    """A name as Trino prints it in DDL: bare when plain lower case, else double-quoted."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def check_time_travel(check, manifest):
    snapshots = manifest["tables"]["pos_deletes"]
    table = f"{NAMESPACE}.pos_deletes"
    for ref, snapshot in manifest["refs"].items():
        check.compare(
            f"ref {ref}",
            check.duck_rows(f"SELECT * FROM lake.{table} AT (VERSION => {snapshot})"),
            check.lakegate_rows(f"SELECT * FROM {table} FOR VERSION AS OF '{ref}'"),
        )
    metadata = check.catalog.load_table((NAMESPACE, "pos_deletes")).metadata
    for position in (3, 5):
        snapshot = metadata.snapshot_by_id(snapshots[position])
        at = datetime.datetime.fromtimestamp(snapshot.timestamp_ms / 1000, datetime.timezone.utc)
        text = at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        check.compare(
            f"timestamp of snapshot {position}",
            check.duck_rows(f"SELECT count(*), sum(id) FROM lake.{table} AT (VERSION => {snapshots[position]})"),
            check.lakegate_rows(f"SELECT count(*), sum(id) FROM {table} FOR TIMESTAMP AS OF TIMESTAMP '{text} UTC'"),
        )
        before = (at - datetime.timedelta(milliseconds=1)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        check.compare(
            f"just before snapshot {position}",
            check.duck_rows(f"SELECT count(*), sum(id) FROM lake.{table} AT (VERSION => {snapshots[position - 1]})"),
            check.lakegate_rows(f"SELECT count(*), sum(id) FROM {table} FOR TIMESTAMP AS OF TIMESTAMP '{before} UTC'"),
        )
    # The same table at two versions in one query.
    check.compare(
        "self-join across versions",
        check.duck_rows(
            f"SELECT count(*) FROM (SELECT * FROM lake.{table} AT (VERSION => {snapshots[2]})) o "
            f"LEFT JOIN lake.{table} n ON o.id = n.id WHERE n.id IS NULL"
        ),
        check.lakegate_rows(
            f"SELECT count(*) FROM {table} FOR VERSION AS OF {snapshots[2]} o "
            f"LEFT JOIN {table} n ON o.id = n.id WHERE n.id IS NULL"
        ),
    )
    for bad, words in [
        (f"SELECT * FROM {table} FOR VERSION AS OF 12345", ["pos_deletes", "12345"]),
        (f"SELECT * FROM {table} FOR VERSION AS OF 'nowhere'", ["pos_deletes", "nowhere"]),
        (f"SELECT * FROM {table} FOR TIMESTAMP AS OF TIMESTAMP '2001-01-01 00:00:00 UTC'", ["pos_deletes", "2001-01-01"]),
    ]:
        error = check.lakegate_error(bad)
        check.expect(f"error for {bad}", error and all(w in error for w in words), f"got {error!r}")


def check_metadata_tables(check, manifest):
    for table in manifest["tables"]:
        iceberg_table = check.catalog.load_table((NAMESPACE, table))
        inspect = iceberg_table.inspect
        quoted = lambda suffix: f'{NAMESPACE}."{table}${suffix}"'  # noqa: E731
        check.compare(
            f"{table}$snapshots",
            rows_of(inspect.snapshots().select(["snapshot_id", "parent_id", "operation", "manifest_list"])),
            check.lakegate_rows(f"SELECT snapshot_id, parent_id, operation, manifest_list FROM {quoted('snapshots')}"),
        )
        check.compare(
            f"{table}$history",
            rows_of(inspect.history().select(["snapshot_id", "parent_id", "is_current_ancestor"])),
            check.lakegate_rows(f"SELECT snapshot_id, parent_id, is_current_ancestor FROM {quoted('history')}"),
        )
        check.compare(
            f"{table}$refs",
            [(r[0], r[1].upper(), r[2]) for r in rows_of(inspect.refs().select(["name", "type", "snapshot_id"]))],
            check.lakegate_rows(f"SELECT name, type, snapshot_id FROM {quoted('refs')}"),
        )
        check.compare(
            f"{table}$files",
            rows_of(inspect.files().select(["content", "file_path", "record_count", "file_size_in_bytes"])),
            check.lakegate_rows(f"SELECT content, file_path, record_count, file_size_in_bytes FROM {quoted('files')}"),
        )
        check.compare(
            f"{table}$manifests",
            rows_of(inspect.manifests().select(["path", "length", "partition_spec_id", "added_snapshot_id"])),
            check.lakegate_rows(f"SELECT path, length, partition_spec_id, added_snapshot_id FROM {quoted('manifests')}"),
        )
        theirs = inspect.partitions()
        check.compare(
            f"{table}$partitions",
            rows_of(theirs.select(["record_count", "file_count"])),
            check.lakegate_rows(f"SELECT record_count, file_count FROM {quoted('partitions')}"),
        )
        check_partition_stats(check, iceberg_table, quoted("partitions"))
        properties = sorted(iceberg_table.metadata.properties.items())
        ours = check.lakegate_rows(f"SELECT key, value FROM {quoted('properties')}")
        check.expect(f"{table}$properties", sorted(ours) == properties, f"{properties} expected, got {ours}")
    listed = check.lakegate_rows(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{NAMESPACE}'")
    check.expect("metadata tables are not listed", all("$" not in r[0] for r in listed), f"listed {listed}")


def check_partition_stats(check, iceberg_table, partitions):
    """`$partitions.data` against pyiceberg's per-file statistics of the same snapshot, summed
    per partition: the least lower bound, the greatest upper bound and the null count of every
    top-level primitive column. A file without a bound (and with non-null values) leaves the
    partition's bound unknown."""
    files = [f for f in iceberg_table.inspect.files().to_pylist() if f["content"] == 0]
    columns = [
        field.name for field in iceberg_table.schema().fields if field.field_type.is_primitive
    ]
    for column in columns:
        groups = {}
        for f in files:
            key = repr(sorted((f.get("partition") or {}).items()))
            metrics = f["readable_metrics"][column]
            group = groups.setdefault(key, {"records": 0, "files": 0, "min": [], "max": [], "nulls": 0})
            group["records"] += f["record_count"]
            group["files"] += 1
            if group["nulls"] is not None and metrics["null_value_count"] is not None:
                group["nulls"] += metrics["null_value_count"]
            else:
                group["nulls"] = None
            if metrics["value_count"] is not None and metrics["value_count"] == metrics["null_value_count"]:
                continue
            group["min"].append(metrics["lower_bound"])
            group["max"].append(metrics["upper_bound"])
        expected = []
        for g in groups.values():
            low = None if None in g["min"] else min(g["min"], default=None)
            high = None if None in g["max"] else max(g["max"], default=None)
            expected.append(tuple(normalise(v) for v in (g["records"], g["files"], low, high, g["nulls"])))
        name = f'"{column}"'
        actual = check.lakegate_rows(
            f"SELECT record_count, file_count, data[{sql_text(column)}]['min'], "
            f"data[{sql_text(column)}]['max'], data[{sql_text(column)}]['null_count'] FROM {partitions}"
        )
        check.compare(f"{partitions}.data.{name}", expected, actual)


def sql_text(value):
    return "'" + value.replace("'", "''") + "'"


def check_freshness(check, refresh_secs):
    """A commit (DuckDB appends through the catalog) is seen by lakegate's next queries within
    the catalog refresh interval; until then every answer is the previous snapshot's, never a
    mix. The wait is bounded far above the interval so a loaded machine cannot flake it."""
    table = f"{NAMESPACE}.pos_deletes"
    sql = f"SELECT count(*), sum(id) FROM {table}"
    before = check.lakegate_rows(sql)
    check.duck.execute(f"INSERT INTO lake.{table} SELECT range, 'fresh', 2.5, DATE '2026-01-01' FROM range(300000, 300500)")
    after = check.duck_rows(f"SELECT count(*), sum(id) FROM lake.{table}")
    committed = time.monotonic()
    seen = None
    other = []
    while time.monotonic() - committed < 10 * refresh_secs + 10:
        rows = check.lakegate_rows(sql)
        if rows == after:
            seen = time.monotonic() - committed
            break
        if rows != before:
            other.append(rows)
        time.sleep(0.05)
    check.expect("answers while the commit lands", not other, f"{other} are neither {before} nor {after}")
    check.expect("a commit becomes visible", seen is not None, f"still {before} instead of {after}")
    if seen is not None:
        print(f"commit seen after {seen:.2f} s (refresh interval {refresh_secs} s)")


def check(args):
    with open(args.manifest) as f:
        manifest = json.load(f)
    checker = Check(args)
    check_data(checker, manifest)
    check_time_travel(checker, manifest)
    check_pruning(checker)
    check_hidden_columns(checker)
    if args.postgres and args.http:
        check_front_ends(checker, manifest, args)
        check_show_stats(checker, manifest, args)
    check_metadata_tables(checker, manifest)
    if args.freshness is not None:
        check_freshness(checker, args.freshness)
    print(f"{checker.passed} checks passed, {len(checker.failures)} failed")
    for failure in checker.failures:
        print("FAIL", failure)
    return 1 if checker.failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "check"])
    parser.add_argument("--rest", required=True)
    parser.add_argument("--warehouse-name", default="lake", help="the REST catalog's warehouse")
    parser.add_argument("--credential")
    parser.add_argument("--s3")
    parser.add_argument("--s3-key")
    parser.add_argument("--sqlite")
    parser.add_argument("--warehouse")
    parser.add_argument("--no-v3", action="store_true", help="the catalog cannot store deletion vectors")
    parser.add_argument("--out")
    parser.add_argument("--manifest")
    parser.add_argument("--flight", type=int)
    parser.add_argument("--postgres", type=int, help="lakegate's PostgreSQL port")
    parser.add_argument("--http", type=int, help="lakegate's HTTP (and Trino protocol) port")
    parser.add_argument("--freshness", type=float, help="check a commit is seen; the refresh interval in s")
    args = parser.parse_args()
    if args.command == "build":
        build(args)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
