"""Throw-away PostgreSQL and Redis servers for tests: started on loopback, stopped at teardown.

PostgreSQL refuses to run as root, so as root the cluster is created and run as the `postgres`
user in a temporary folder it owns. A missing binary skips the test locally and fails it under
CI=true (see `tests.conftest.need`).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def need(condition: bool, reason: str) -> None:
    from tests.conftest import need as need_or_fail  # late: tests/conftest.py imports this module

    need_or_fail(condition, reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not listen on {port}: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen, how: signal.Signals = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# ---- PostgreSQL --------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The folder with initdb and postgres (Debian keeps them out of PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


@dataclass
class PostgresServer:
    port: int
    folder: Path
    process: subprocess.Popen
    user: str = "postgres"
    created: list[str] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)
    run_as: dict[str, object] = field(default_factory=dict)

    def restart(self, down_for: float = 0.0) -> None:
        """Stop the server at once (as a crash would: no checkpoint) and start it again on the same
        data and port, after `down_for` seconds."""
        _stop(self.process, signal.SIGQUIT)
        time.sleep(down_for)
        log = self.folder / "postgres.log"
        with log.open("a") as out:
            self.process = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.folder,
                                            **self.run_as)  # type: ignore[call-overload]
        _wait_for_port(self.port, self.process, log)
        _wait_accepting(self.port, self)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url(name)

    def stop(self) -> None:
        # "immediate" shutdown: no final checkpoint (the cluster is thrown away); SIGTERM would also
        # wait for every client to leave
        _stop(self.process, signal.SIGQUIT)
        shutil.rmtree(self.folder, ignore_errors=True)


def libpq_dsn(url: str) -> str:
    """A database's SQLAlchemy URL (`PostgresServer.url`) as psycopg connects to it directly."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _memory_folder(needed: int = 1 << 30) -> str | None:
    """A RAM-backed folder when there is one with room: a throw-away cluster is made and deleted
    (thousands of files per database) much faster there. None: the usual temporary folder."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > needed:
            return str(shm)
    except OSError:
        pass
    return None


def start_postgres(crash_safe: bool = False) -> PostgresServer:
    """`crash_safe`: commits are flushed to the WAL before they return (synchronous_commit on), so a
    crash of the server (kill, immediate shutdown) loses no committed transaction, as in production.
    Off by default: the throw-away servers of the other tests never crash and run faster without."""
    bin_dir = postgres_bin()
    installed = bin_dir is not None and (bin_dir / "postgres").exists()
    need(installed, "PostgreSQL is not installed (apt-get install postgresql)")
    assert bin_dir is not None
    # PostgreSQL refuses to run as root: then run it as the `postgres` account, in a folder it owns.
    run_as: dict[str, object] = {}
    folder = Path(tempfile.mkdtemp(prefix="connector-pg-", dir=_memory_folder()))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            need(False, "running as root and there is no `postgres` user to run PostgreSQL as")
        os.chown(folder, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    data = folder / "data"
    log = folder / "postgres.log"
    subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync",
         "--locale=C"],
        check=True, capture_output=True, timeout=60, cwd=folder, **run_as,  # type: ignore[call-overload]
    )
    port = free_port()
    argv = [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={folder}", "-c", "fsync=off",
            "-c", f"synchronous_commit={'on' if crash_safe else 'off'}",
            "-c", "full_page_writes=off", "-c", "max_connections=200"]
    with log.open("w") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, cwd=folder, **run_as,  # type: ignore[call-overload]
        )
    _wait_for_port(port, process, log)
    server = PostgresServer(port, folder, process, argv=argv, run_as=run_as)
    _wait_accepting(port, server)
    return server


def _wait_accepting(port: int, server: PostgresServer) -> None:
    """Listening is not accepting: wait for the first successful connection."""
    import psycopg

    deadline = time.monotonic() + 20
    while True:
        try:
            psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres").close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)


# ---- Redis -------------------------------------------------------------------------------


@dataclass
class RedisServer:
    port: int
    folder: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    argv: list[str] = field(default_factory=list)

    def stop(self) -> None:
        _stop(self.process)
        shutil.rmtree(self.folder, ignore_errors=True)

    def pause(self) -> None:
        """Stop the server (its data is not kept: queued messages are lost, as in a crash)."""
        _stop(self.process)

    def resume(self) -> None:
        log = self.folder / "redis.log"
        with log.open("a") as out:
            self.process = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT)
        _wait_for_port(self.port, self.process, log)


def start_redis() -> RedisServer:
    binary = shutil.which("redis-server")
    need(binary is not None, "redis-server is not installed (apt-get install redis-server)")
    assert binary is not None
    folder = Path(tempfile.mkdtemp(prefix="connector-redis-"))
    log = folder / "redis.log"
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(folder), "--protected-mode", "yes"]
    with log.open("w") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    _wait_for_port(port, process, log)
    return RedisServer(port, folder, process, argv=argv)


# ---- fixtures (import them into a conftest or a test module) ------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh database on the session's PostgreSQL server."""
    return postgres_server.create_database()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    server.stop()
