"""Production refuses to start without its secrets; `check --deploy` passes when they are set."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789"


def _check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    return subprocess.run([sys.executable, "manage.py", "check", *args], cwd=ROOT,
                          env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_production_refuses_to_start_without_a_secret_key():
    result = _check({"DEBUG": "0", "ALLOWED_HOSTS": "clinic.example.com"})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = _check({"DEBUG": "0", "ALLOWED_HOSTS": "x.example.com", "SECRET_KEY": "short"})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _check({"DEBUG": "0", "SECRET_KEY": GOOD_KEY})
    assert result.returncode != 0 and "ALLOWED_HOSTS" in result.stderr


def test_deploy_check_passes_with_production_settings():
    result = _check({"DEBUG": "0", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "x.example.com"},
                    "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
