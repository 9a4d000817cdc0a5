"""A real PostgreSQL 16 + pgvector server for the tests, and one isolated database per test.

The server binaries come from the ``pgserver`` wheel (PostgreSQL 16 with pgvector 0.6 built in),
so no system package is needed. ``python -m tests.pg start DIR`` starts a throw-away cluster in
DIR and prints its URL (what ``.ci/run`` exports as ``DAILYPAPERS_TEST_POSTGRES_URL``);
``python -m tests.pg stop DIR`` stops it.

PostgreSQL refuses to run as root, so as root the binaries run as an unprivileged system user
(created on first use). The cluster trades durability for speed (``fsync=off``): it holds test
data only.

``TestDatabases`` gives each test its own database: the schema is migrated once per pytest run
into a template database, and every test gets ``CREATE DATABASE … TEMPLATE`` of it, dropped
afterwards.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL

OS_USER = "dailypapers-pg"
# Durability is worthless for test data; these make CREATE DATABASE and commits cheap.
SERVER_OPTIONS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "128MB",
}


def bin_dir() -> Path:
    """The ``bin`` folder of the PostgreSQL build shipped in the ``pgserver`` wheel."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the pgserver package is not installed: pip install -e '.[test]'")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _as_root() -> bool:
    return os.geteuid() == 0


def _ensure_os_user() -> None:
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        OS_USER], check=True)


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    user = OS_USER if _as_root() else None
    return subprocess.run(args, check=True, text=True, user=user, **kwargs)


def _usable_bin_dir() -> Path:
    """``bin_dir()``, or as root a world-readable copy of the build when the unprivileged user
    cannot reach the virtualenv (a checkout under a private home directory)."""
    bins = bin_dir()
    if not _as_root():
        return bins
    try:
        _run([str(bins / "postgres"), "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return bins
    except (OSError, subprocess.CalledProcessError):
        pass
    # The binaries find libpq through the rpath $ORIGIN/../../../pgserver.libs: keep that layout.
    package = bins.parent.parent
    copy = Path("/tmp") / f"dailypapers-pgserver-{os.stat(bins).st_ino}"
    if not (copy / "pgserver" / "pginstall" / "bin" / "postgres").exists():
        staging = Path(f"{copy}.{os.getpid()}")
        shutil.copytree(bins.parent, staging / "pgserver" / "pginstall",
                        ignore=shutil.ignore_patterns("include"))
        shutil.copytree(package.parent / "pgserver.libs", staging / "pgserver.libs")
        for path in [staging, *staging.rglob("*")]:
            mode = path.stat().st_mode
            executable = path.is_dir() or mode & 0o100
            path.chmod(mode | 0o044 | (0o011 if executable else 0))
        staging.rename(copy)
    if copy.stat().st_uid != 0:
        raise RuntimeError(f"{copy} is not owned by root: remove it")
    return copy / "pgserver" / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_url(port: int, database: str = "postgres") -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"


def start(data_dir: Path) -> str:
    """Create (if new) and start a cluster in ``data_dir``; return its SQLAlchemy URL."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    if _as_root():
        _ensure_os_user()
        entry = pwd.getpwnam(OS_USER)
        os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    data_dir.chmod(0o700)
    bins = _usable_bin_dir()
    if not (data_dir / "PG_VERSION").exists():
        # C collation sorts text by code point, as SQLite does, so ORDER BY agrees on both.
        _run([str(bins / "initdb"), "-D", str(data_dir), "--auth=trust", "--username=postgres",
              "--encoding=UTF8", "--no-locale", "--no-sync"], stdout=subprocess.DEVNULL)
    port = _free_port()
    options = " ".join(f"-c {k}={v}" for k, v in {**SERVER_OPTIONS, "port": str(port),
                                                     "unix_socket_directories": str(data_dir)}.items())
    try:
        _run([str(bins / "pg_ctl"), "-D", str(data_dir), "-l", str(data_dir / "server.log"),
              "-o", options, "-w", "-t", "60", "start"], stdout=subprocess.DEVNULL)
    except subprocess.CalledProcessError as exc:
        log = data_dir / "server.log"
        raise RuntimeError(f"PostgreSQL did not start:\n{log.read_text() if log.exists() else ''}") from exc
    (data_dir / "url").write_text(server_url(port))
    return server_url(port)


def stop(data_dir: Path, *, remove: bool = False) -> None:
    data_dir = data_dir.resolve()
    if (data_dir / "postmaster.pid").exists():
        _run([str(_usable_bin_dir() / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"],
             stdout=subprocess.DEVNULL)
    if remove:
        shutil.rmtree(data_dir, ignore_errors=True)


def check_server(url: str) -> str:
    """Fail loudly unless ``url`` reaches a PostgreSQL server that can create the vector extension."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            has_vector = conn.execute(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).first()
    except Exception as exc:
        raise RuntimeError(f"cannot reach the test PostgreSQL at {url}: {exc}") from exc
    finally:
        engine.dispose()
    if not has_vector:
        raise RuntimeError(f"the PostgreSQL server at {url} has no pgvector extension")
    return version


class TestDatabases:
    """Per-test databases cloned from a template migrated once (names carry the pid, so
    several pytest runs can share one server)."""

    __test__ = False  # not a pytest test class

    def __init__(self, server: str) -> None:
        self.server: URL = make_url(server).set(drivername="postgresql+psycopg")
        self.prefix = f"dptest_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self._names = itertools.count(1)
        self.admin = create_engine(self.server.set(database="postgres"), isolation_level="AUTOCOMMIT",
                                   pool_size=1, max_overflow=0)
        self._template_ready = False

    def url(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def _execute(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def _create(self, name: str, template: str) -> None:
        # FILE_COPY clones a small template in half the time of the default WAL_LOG (~25 ms).
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')

    def drop(self, name: str) -> None:
        # FORCE ends connections a test left open (a server subprocess, an undisposed engine).
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _ensure_template(self) -> None:
        if self._template_ready:
            return
        from dailypapers.store.db import Database

        self.drop(self.template)
        self._create(self.template, "template0")
        database = Database(self.url(self.template))
        try:
            database.migrate()
        finally:
            database.dispose()
        self._template_ready = True

    def new(self, *, migrated: bool = True, copy_of: str | None = None) -> str:
        """Create a fresh database and return its URL: migrated to heads, or empty, or a copy of
        the database named ``copy_of`` (which must have no open connection)."""
        name = f"{self.prefix}_{next(self._names)}"
        if copy_of is not None:
            template = copy_of
        elif migrated:
            self._ensure_template()
            template = self.template
        else:
            template = "template0"
        self._create(name, template)
        return self.url(name)

    @contextmanager
    def database(self, *, migrated: bool = True) -> Iterator[str]:
        url = self.new(migrated=migrated)
        try:
            yield url
        finally:
            self.drop(make_url(url).database or "")

    def close(self) -> None:
        with self.admin.connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                 {"p": f"{self.prefix}\\_%"}).scalars().all()
        for name in names:
            self.drop(name)
        self.admin.dispose()


def main(argv: list[str]) -> int:
    usage = "usage: python -m tests.pg start|stop|remove DATA_DIR"
    if len(argv) != 2 or argv[0] not in {"start", "stop", "remove"}:
        print(usage, file=sys.stderr)
        return 2
    command, data_dir = argv[0], Path(argv[1])
    if command == "start":
        url = start(data_dir)
        check_server(url)
        print(url)
    else:
        stop(data_dir, remove=command == "remove")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
