"""Engine and session factory, and the automatic Alembic upgrade run at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` URLs mean psycopg 3, the PostgreSQL driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_postgres(url: str) -> bool:
    return normalize_url(url).startswith("postgresql")


# Per web/worker process: with N processes the server needs N * (size + overflow) connections
# (docs/postgresql.md explains how to size max_connections or put PgBouncer in front).
POSTGRES_POOL = {"pool_size": 5, "max_overflow": 10, "pool_timeout": 30, "pool_recycle": 1800}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite files get WAL, foreign keys and a busy timeout on every connection.

    PostgreSQL engines use psycopg 3 with a bounded pool that checks connections before use
    (a restarted server or a failover does not leave dead connections in the pool).
    """
    url = normalize_url(url)
    if url.startswith("sqlite"):
        connect_args: dict[str, object] = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql"):
        # No server-side prepared statements: psycopg would prepare a query after 5 runs, and the
        # generic plan of `IN (:p1, …, :p500)` scans linearly (2x slower bulk imports); without
        # them every query is planned with its values, and PgBouncer's transaction mode works.
        connect_args = {"application_name": "dailypapers", "prepare_threshold": None}
        options = {**POSTGRES_POOL, "pool_pre_ping": True, "connect_args": connect_args, **kwargs}
        engine = create_engine(url, **options)
        event.listen(engine, "before_cursor_execute", _drop_nul_characters, retval=True)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, list | tuple) and any(_has_nul(v) for v in value)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list | tuple):
        return type(value)(_without_nul(v) for v in value)
    return value


def _drop_nul_characters(_conn: Any, _cursor: Any, statement: str, parameters: Any,
                         _context: Any, executemany: bool) -> tuple[str, Any]:
    """PostgreSQL text cannot hold NUL (U+0000) and refuses the whole statement; SQLite stores
    it. A NUL is never meaningful in our text (titles, comments, lookups of a key from a URL),
    so it is dropped here rather than turning odd input into a server error."""
    rows = parameters if executemany else [parameters]
    if not any(_has_nul(v) for row in rows if isinstance(row, dict) for v in row.values()):
        return statement, parameters
    fixed = [{k: _without_nul(v) for k, v in row.items()} if isinstance(row, dict) else row
             for row in rows]
    return statement, fixed if executemany else fixed[0]


def widen_page_cache(session: Session, *, mib: int) -> None:
    """SQLite: let the session's connection cache ``mib`` MiB of database pages (the default is
    2 MiB). A bulk import into a database of gigabytes then finds the index pages it updates in
    memory instead of reading them back from the OS at every insert (measured on 150,000 snapshot
    records: 13.4 s of system CPU → 5.4 s). The connection keeps it until it is closed, so only
    one-shot commands (``import arxiv-snapshot``) call this. PostgreSQL: nothing (the server's
    shared_buffers do this job)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql(f"PRAGMA cache_size=-{int(mib) * 1024}")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (all heads); safe to call on every start."""
    command.upgrade(alembic_config(engine), "heads")


class Database:
    """The engine and session factory of one installation (no globals: built from Settings)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = make_sessionmaker(self.engine)

    def migrate(self) -> None:
        migrate(self.engine)

    def session(self) -> Session:
        return self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()
