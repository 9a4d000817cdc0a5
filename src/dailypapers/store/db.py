"""Engine and session factory, and the automatic Alembic upgrade run at start."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` URLs mean psycopg 3, the PostgreSQL driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_postgres(url: str) -> bool:
    return normalize_url(url).startswith("postgresql")


# CLI commands and jobs (the web workers size their pool with ``web_pool``): with N processes
# the server needs N * (size + overflow) connections (docs/postgresql.md explains how to size
# max_connections or put PgBouncer in front).
POSTGRES_POOL = {"pool_size": 5, "max_overflow": 10, "pool_timeout": 30, "pool_recycle": 1800}

#: Connections of a web worker beyond one per request thread: the keyword catch-up thread, the
#: digest scheduler, the vector index's own session and one spare.
BACKGROUND_CONNECTIONS = 4


def web_pool(url: str, *, threads: int, timeout: float) -> dict[str, Any]:
    """Engine options of a web worker: one connection per request thread (a request holds at
    most one at a time) plus ``BACKGROUND_CONNECTIONS``, so no request waits for another's
    connection; ``timeout`` bounds the wait for a connection and, on SQLite, for the write lock,
    after which the request is answered 503 (``web/errors.py``) instead of hanging."""
    options: dict[str, Any] = {"busy_timeout": timeout}
    if ":memory:" not in url:
        options.update(pool_size=threads + BACKGROUND_CONNECTIONS, max_overflow=0,
                       pool_timeout=timeout)
    return options


def make_engine(url: str, *, busy_timeout: float = 30.0, **kwargs: Any) -> Engine:
    """Create an engine; SQLite files get WAL, foreign keys and a busy timeout on every connection.

    PostgreSQL engines use psycopg 3 with a bounded pool that checks connections before use
    (a restarted server or a failover does not leave dead connections in the pool).
    ``busy_timeout`` is how long a SQLite statement waits for another writer's lock.
    """
    url = normalize_url(url)
    if url.startswith("sqlite"):
        connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": busy_timeout}
        busy_ms = int(busy_timeout * 1000)
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.close()

        if ":memory:" not in url:
            _serialize_writers(engine, busy_timeout)
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


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_HOLDS_WRITE_LOCK = "dailypapers.holds_write_lock"
_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, Callable[[dict[str, Any], str, Any], None]] = \
    weakref.WeakKeyDictionary()


def hold_write_lock(db: Session) -> None:
    """Take the process's SQLite write lock for the session's transaction before writing on the
    driver's own connection (which the engine's events do not see); no-op elsewhere. Writing
    without it could deadlock: this thread would hold SQLite's lock while waiting for the
    process's, held by a thread waiting for SQLite's."""
    conn = db.connection()
    take = _WRITE_LOCKS.get(conn.engine)
    if take is not None:
        take(conn.info, "(bulk insert)", None)


def _serialize_writers(engine: Engine, timeout: float) -> None:
    """One writing transaction at a time per process, queued on a lock of the engine.

    SQLite lets one transaction write at a time; the others poll for the lock (sleeping up to
    100 ms between tries, in no order), so with twenty threads writing at once some wait far
    longer than the rest and time out. Here a connection takes the process's lock before its
    transaction's first write and keeps it until commit or rollback, so at most one thread per
    process polls SQLite and the others wait on the lock, which hands over at once. Waiting longer
    than ``timeout`` is "database is locked", like SQLite's own busy timeout."""
    lock = threading.Lock()

    def take(info: dict[str, Any], statement: str, parameters: Any) -> None:
        if info.get(_HOLDS_WRITE_LOCK):
            return
        if not lock.acquire(timeout=timeout):
            raise OperationalError(statement, parameters, sqlite3.OperationalError(
                "database is locked (another thread of this process kept writing)"))
        info[_HOLDS_WRITE_LOCK] = True

    _WRITE_LOCKS[engine] = take

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            take(conn.info, statement, parameters)

    def _give_back(info: dict[str, Any]) -> None:
        if info.pop(_HOLDS_WRITE_LOCK, False):
            lock.release()

    event.listen(engine, "commit", lambda conn: _give_back(conn.info))
    event.listen(engine, "rollback", lambda conn: _give_back(conn.info))
    # A connection returned to the pool without either (the pool rolls it back) gives it back too.
    event.listen(engine.pool, "checkin", lambda _dbapi, record: _give_back(record.info))
    event.listen(engine.pool, "invalidate", lambda _dbapi, record, _exc: _give_back(record.info))


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


@contextmanager
def foreign_keys_unchecked(session: Session) -> Iterator[None]:
    """SQLite: skip the foreign-key checks of the session's connection for a bulk writer whose
    rows satisfy them by construction (the snapshot import links papers it has just written, in
    the same transaction, to authors, which are never deleted): two index lookups per author row
    of a paper, a fifth of writing them. Turned back on afterwards, whatever happens. Must be
    called between transactions (SQLite ignores the pragma inside one). PostgreSQL: nothing."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = session.connection()
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        session.rollback()  # nothing pending by now; the pragma needs no transaction open
        session.connection().exec_driver_sql("PRAGMA foreign_keys=ON")


#: ``Session.info`` key: the names of the tables the session's current transaction wrote.
WRITTEN = "dailypapers.written"


class PendingWork(RuntimeError):
    """A use case was started on a session whose transaction holds writes it would commit."""


def note_written(db: Session, table: str) -> None:
    """Record that the session's transaction wrote ``table`` (statements run through the session
    are noted by themselves; writers on the raw driver connection call this)."""
    db.info.setdefault(WRITTEN, set()).add(table)


def written_tables(db: Session) -> set[str]:
    """The tables the session's current (or just committed) transaction wrote."""
    return db.info.get(WRITTEN, set())  # type: ignore[no-any-return]


def _note_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)  # ORM statements carry an annotated copy
        note_written(state.session, getattr(table, "name", "?"))


def _note_flush(session: Session, _context: object) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        note_written(session, getattr(getattr(obj, "__table__", None), "name", "?"))


def _forget_writes(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # a new top-level transaction has written nothing yet
        session.info.pop(WRITTEN, None)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(sessions, "do_orm_execute", _note_write)
    event.listen(sessions, "after_flush", _note_flush)
    event.listen(sessions, "after_transaction_create", _forget_writes)
    return sessions


def use_case(db: Session) -> SessionTransaction:
    """``db.begin()`` for a service function that is a whole use case (it commits what it does).

    A transaction the session already holds is ended first if it only read (as SQLAlchemy's
    autobegin leaves one after any query); if it wrote, ``PendingWork`` is raised rather than
    committing the caller's work with ours. Writes are known from ``written_tables`` (statements
    and flushes of the session, and ``store.bulk`` writing on the driver's connection)."""
    end_read_only(db)
    return db.begin()


def end_read_only(db: Session) -> None:
    """End the session's transaction if it only read; raise ``PendingWork`` if it wrote."""
    if db.in_transaction():
        if db.new or db.dirty or db.deleted or written_tables(db):
            raise PendingWork("this use case commits its own transaction; the session holds "
                              "uncommitted writes of its caller")
        db.commit()  # it only read: ending it loses nothing (and, unlike a rollback, expires nothing)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to call on every start.

    "head" (not "heads"): Alembic refuses it when the history has two heads, so a second head
    landed by mistake fails every start and test instead of silently applying both branches."""
    command.upgrade(alembic_config(engine), "head")


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
