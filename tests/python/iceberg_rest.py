"""An Iceberg REST catalog over pyiceberg's SQL catalog, for the tests' writers.

DuckDB writes Iceberg tables (position deletes, v3 deletion vectors) only through a REST
catalog. Served on loopback over the same SQLite catalog lakegate reads, it lets DuckDB fill a
lake that lakegate then reads directly, with every commit checked and applied by pyiceberg's own
commit logic. It is a fixture writer's path, not something under test.

pyiceberg 0.12 applies v3 table updates (row lineage included) but refuses to write v3
metadata and to upgrade a table to v3; both guards are lifted here, the metadata it writes is
the same model it reads.

    python iceberg_rest.py --uri sqlite:///DIR/catalog.db --warehouse file:///DIR --name lake

prints `listening PORT` once it serves, and serves until killed (over https with
`--tls-cert`/`--tls-key`).
"""

import argparse
import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pyiceberg.table.update as table_update
from pydantic import BaseModel
from pyiceberg.catalog.rest import CreateTableRequest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC
from pyiceberg.table import CommitTableRequest
from pyiceberg.table.metadata import TableMetadataV3
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER


def _dump_v3(self, exclude_none=True, exclude=None, by_alias=True, **kwargs):
    return BaseModel.model_dump_json(
        self, exclude_none=exclude_none, exclude=exclude, by_alias=by_alias, **kwargs
    )


TableMetadataV3.model_dump_json = _dump_v3
table_update.SUPPORTED_TABLE_FORMAT_VERSION = 3
_upgrade = table_update._apply_table_update.dispatch(table_update.UpgradeFormatVersionUpdate)


@table_update._apply_table_update.register(table_update.UpgradeFormatVersionUpdate)
def _upgrade_with_row_lineage(update, base_metadata, context):
    # A v3 table starts counting row ids at 0 (the spec's `next-row-id`, required in v3
    # metadata); writers number their snapshots' rows from it.
    upgraded = _upgrade(update, base_metadata, context)
    if upgraded.format_version >= 3 and getattr(upgraded, "next_row_id", None) is None:
        upgraded = upgraded.model_copy(update={"next_row_id": 0})
    return upgraded

# Namespaces in REST paths are joined with the unit separator.
NAMESPACE_SEPARATOR = "\x1f"


class _Missing:
    """Stands for a table a staged create has not committed yet."""

    def __init__(self, identifier):
        self.identifier = identifier

    def name(self):
        return self.identifier


def serve(catalog: SqlCatalog, port: int) -> ThreadingHTTPServer:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, code, body=None):
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, code, kind, message):
            self.reply(code, {"error": {"message": message, "type": kind, "code": code}})

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        @staticmethod
        def table_json(table):
            metadata = json.loads(table.metadata.model_dump_json(by_alias=True, exclude_none=True))
            return {"metadata-location": table.metadata_location, "metadata": metadata, "config": {}}

        def handle_method(self, method):
            parts = [unquote(p) for p in self.path.split("?")[0].strip("/").split("/")]
            # An optional prefix between /v1 and the resource is ignored.
            if len(parts) > 2 and parts[0] == "v1" and parts[2] in ("namespaces", "transactions"):
                parts = ["v1"] + parts[2:]
            try:
                with lock:
                    self.dispatch(method, parts)
            except NoSuchTableError as e:
                self.error(404, "NoSuchTableException", str(e))
            except NoSuchNamespaceError as e:
                self.error(404, "NoSuchNamespaceException", str(e))
            except (NamespaceAlreadyExistsError, TableAlreadyExistsError) as e:
                self.error(409, "AlreadyExistsException", str(e))
            except CommitFailedException as e:
                self.error(409, "CommitFailedException", str(e))
            except Exception as e:  # noqa: BLE001 - the client gets the reason
                self.error(500, type(e).__name__, str(e))

        def dispatch(self, method, parts):
            if parts[:2] == ["v1", "config"]:
                return self.reply(200, {"defaults": {}, "overrides": {}})
            if parts[:3] == ["v1", "transactions", "commit"] and method == "POST":
                for change in self.body()["table-changes"]:
                    self.commit(change)
                return self.reply(204)
            if parts[:2] != ["v1", "namespaces"]:
                return self.error(404, "NotFound", "/".join(parts))
            if len(parts) == 2:
                if method == "GET":
                    names = [list(n) for n in catalog.list_namespaces()]
                    return self.reply(200, {"namespaces": names})
                body = self.body()
                catalog.create_namespace(tuple(body["namespace"]), body.get("properties", {}))
                return self.reply(200, {"namespace": body["namespace"], "properties": {}})
            namespace = tuple(parts[2].split(NAMESPACE_SEPARATOR))
            if len(parts) == 3:
                properties = catalog.load_namespace_properties(namespace)
                if method == "HEAD":
                    return self.reply(204)
                return self.reply(200, {"namespace": list(namespace), "properties": properties})
            if len(parts) == 4 and parts[3] == "tables":
                if method == "GET":
                    tables = [{"namespace": list(t[:-1]), "name": t[-1]} for t in catalog.list_tables(namespace)]
                    return self.reply(200, {"identifiers": tables})
                return self.create(namespace, self.body())
            if len(parts) == 5 and parts[3] == "tables":
                identifier = namespace + (parts[4],)
                if method == "HEAD":
                    catalog.load_table(identifier)
                    return self.reply(204)
                if method == "GET":
                    return self.reply(200, self.table_json(catalog.load_table(identifier)))
                if method == "DELETE":
                    catalog.drop_table(identifier)
                    return self.reply(204)
                change = self.body()
                change.setdefault("identifier", {"namespace": list(namespace), "name": parts[4]})
                response = self.commit(change)
                return self.reply(200, json.loads(response.model_dump_json(by_alias=True, exclude_none=True)))
            return self.error(404, "NotFound", "/".join(parts))

        def create(self, namespace, body):
            for key in ("location", "partition-spec", "write-order"):
                body.setdefault(key, None)
            request = CreateTableRequest.model_validate(body)
            arguments = (
                namespace + (request.name,),
                request.table_schema,
                request.location,
                request.partition_spec or UNPARTITIONED_PARTITION_SPEC,
                request.write_order or UNSORTED_SORT_ORDER,
                request.properties,
            )
            if request.stage_create:
                staged = catalog._create_staged_table(*arguments)
                # Object stores have no directories; DuckDB writes a staged table's first files
                # before the catalog has written anything there, so local ones are made now.
                if staged.location().startswith("file://"):
                    for folder in ("metadata", "data"):
                        os.makedirs(os.path.join(staged.location()[len("file://"):], folder), exist_ok=True)
                return self.reply(200, self.table_json(staged))
            return self.reply(200, self.table_json(catalog.create_table(*arguments)))

        def commit(self, change):
            request = CommitTableRequest.model_validate(change)
            identifier = tuple(request.identifier.namespace.root) + (request.identifier.name,)
            try:
                table = catalog.load_table(identifier)
            except NoSuchTableError:
                table = _Missing(identifier)
            return catalog.commit_table(table, request.requirements, request.updates)

        def do_GET(self):
            self.handle_method("GET")

        def do_HEAD(self):
            self.handle_method("HEAD")

        def do_POST(self):
            self.handle_method("POST")

        def do_DELETE(self):
            self.handle_method("DELETE")

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", required=True)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--name", default="lake")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert", help="serve https with this PEM certificate chain")
    parser.add_argument("--tls-key", help="and this PEM key")
    args = parser.parse_args()
    catalog = SqlCatalog(args.name, uri=args.uri, warehouse=args.warehouse)
    server = serve(catalog, args.port)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
