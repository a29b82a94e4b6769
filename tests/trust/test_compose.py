"""docker compose runs the application as the restricted database role, behind the only proxy that reaches it."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_web_worker_and_beat_connect_as_the_app_role_and_only_migrate_as_the_owner():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://clinnova_app:")
    migrate = services["migrate"]
    assert migrate["environment"]["DATABASE_URL"].startswith("postgres://clinnova:")
    assert "create_app_role" in migrate["command"]
    assert services["postgres"]["environment"]["POSTGRES_USER"] == "clinnova"


def test_gunicorn_is_reachable_only_from_the_proxy():
    compose = _compose()
    services = compose["services"]
    assert "ports" not in services["web"]
    on_edge = [name for name, s in services.items() if "edge" in (s.get("networks") or [])]
    assert sorted(on_edge) == ["proxy", "web"]
    assert compose["networks"]["edge"]["internal"] is True
    subnet = compose["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    env = services["web"]["environment"]
    assert env["TRUSTED_PROXY_COUNT"] == "1" and env["TRUSTED_PROXY_NETWORKS"] == subnet


def test_the_proxy_overwrites_the_forwarding_headers_a_client_could_forge():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    assert "proxy_set_header X-Request-ID $request_id;" in conf
    assert "$proxy_add_x_forwarded_for" not in conf
