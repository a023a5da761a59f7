"""The `chapbook` command as an operator uses it: real processes, a fresh data folder each."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from chapbook.people.models import ApiToken
from chapbook.site.serving import wait_until_up

CHAPBOOK = [sys.executable, "-m", "chapbook"]


def fresh_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["CHAPBOOK_HOME"] = str(home)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_it_refuses_to_serve_while_migrations_are_pending(tmp_path: Path) -> None:
    run = subprocess.run([*CHAPBOOK, "serve"], env=fresh_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "migration" in run.stderr and "chapbook migrate" in run.stderr


def test_it_keeps_all_state_in_chapbook_home_and_generates_the_secret_key_once(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    subprocess.run([*CHAPBOOK, "migrate", "-v0"], env=env, check=True, timeout=120)
    key = (tmp_path / "secret_key").read_text()
    subprocess.run([*CHAPBOOK, "check"], env=env, check=True, capture_output=True, timeout=60)
    assert (tmp_path / "secret_key").read_text() == key
    assert (tmp_path / "chapbook.sqlite3").exists()
    journal = subprocess.run(
        [sys.executable, "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('pragma journal_mode').fetchone()[0])",
         str(tmp_path / "chapbook.sqlite3")],
        capture_output=True, text=True, check=True,
    )
    assert journal.stdout.strip() == "wal"


def test_production_server_answers_healthz_pages_and_static_files(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    subprocess.run([*CHAPBOOK, "migrate", "-v0"], env=env, check=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([*CHAPBOOK, "serve", "--port", str(port), "--workers", "1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_until_up(base + "/healthz", timeout=60)
        with urllib.request.urlopen(base + "/healthz") as response:
            assert response.read() == b"ok"
        with urllib.request.urlopen(base + "/") as response:
            assert b"Recently updated" in response.read()
        with urllib.request.urlopen(base + "/static/chapbook/site.css") as response:
            assert response.status == 200 and b"--accent" in response.read()
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_token_command_prints_a_token_that_authenticates(author: object, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("token", "alice")
    raw = capsys.readouterr().out.strip()
    assert ApiToken.authenticate(raw) == author


def test_token_command_rejects_unknown_user_with_exit_code_2(db: None) -> None:
    with pytest.raises(CommandError) as error:
        call_command("token", "nobody")
    assert error.value.returncode == 2
