import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run_check({})
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_debug_mode_starts_without_a_secret_key():
    assert run_check({"DEBUG": "1"}).returncode == 0


def test_a_malformed_boolean_is_refused_by_name():
    result = run_check({"DEBUG": "maybe"})
    assert "DEBUG='maybe'" in result.stderr
