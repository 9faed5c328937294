"""A throwaway PostgreSQL server for the test run: initdb + pg_ctl in a temporary folder.

The server listens on a free loopback port, keeps nothing durable (fsync off: it is deleted at the
end), and is stopped when the test session ends. As root, the server runs as the ``postgres``
system user that Debian's package creates, because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

SUPERUSER = "garrison_test"


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    """The newest Debian PostgreSQL server installation, or whatever PATH offers."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found. Run `make test`, which "
        "installs Debian's postgresql package, or set GARRISON_TEST_POSTGRES_URL to an existing "
        "server's admin URL."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    admin_url: str
    """psycopg URL of the maintenance database, used to create and drop test databases."""
    version: str
    description: str
    _stop: list[str] | None = None
    _folder: Path | None = None

    def sqlalchemy_url(self, database: str) -> str:
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{database}"

    @contextlib.contextmanager
    def fresh_database(self) -> Iterator[str]:
        """A new empty database for one test, dropped afterwards."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield self.sqlalchemy_url(name)
        finally:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self._stop is not None:
            subprocess.run(self._stop, check=False, capture_output=True, timeout=60)
            self._stop = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _server_version(admin_url: str) -> str:
    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def start_postgres() -> PostgresServer:
    """Use GARRISON_TEST_POSTGRES_URL if given, else start a private throwaway cluster."""
    external = os.environ.get("GARRISON_TEST_POSTGRES_URL")
    if external:
        version = _server_version(external)
        return PostgresServer(
            external, version, f"PostgreSQL {version} from GARRISON_TEST_POSTGRES_URL"
        )

    bindir = find_bindir()
    folder = Path(tempfile.mkdtemp(prefix="garrison-pg-"))
    data = folder / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                "running as root needs the 'postgres' system user (Debian's postgresql package "
                "creates it) because PostgreSQL refuses to run as root"
            ) from None
        os.chown(folder, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*args: str) -> None:
        result = subprocess.run(
            [*prefix, *args], check=False, capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            log = folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            tool = Path(args[0]).name
            raise PostgresUnavailable(
                f"{tool} failed ({result.returncode}): {result.stderr.strip()}\n{tail}"
            )

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        SUPERUSER,
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-locale",
        "--no-sync",
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(folder / "server.log"),
        "-w",
        "-t",
        "60",
        "start",
    )
    stop = [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
    admin_url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
    try:
        version = _server_version(admin_url)
    except Exception:
        subprocess.run(stop, check=False, capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return PostgresServer(
        admin_url,
        version,
        f"throwaway PostgreSQL {version} cluster on 127.0.0.1:{port} ({bindir})",
        _stop=stop,
        _folder=folder,
    )
