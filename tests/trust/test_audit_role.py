"""As the application's database role, the audit trail can be appended to and read, never erased or forged."""

from __future__ import annotations

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import services_missing

TABLE = "clinnova_auditevent"
REFUSED = {
    "TRUNCATE": f"TRUNCATE {TABLE}",
    "DISABLE TRIGGER": f"ALTER TABLE {TABLE} DISABLE TRIGGER clinnova_audit_append_only",
    "DISABLE TRIGGER ALL": f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL",
    "DROP TRIGGER": f"DROP TRIGGER clinnova_audit_append_only ON {TABLE}",
    "session_replication_role": "SET session_replication_role = replica",
    "UPDATE": f"UPDATE {TABLE} SET action = 'forged'",
    "DELETE": f"DELETE FROM {TABLE}",
    "DROP TABLE": f"DROP TABLE {TABLE}",
    "CREATE TRIGGER": f"CREATE TRIGGER t BEFORE INSERT ON {TABLE} FOR EACH ROW EXECUTE FUNCTION "
                      "clinnova_audit_append_only()",
}


@pytest.fixture
def app_role(transactional_db):
    if connection.vendor != "postgresql":
        services_missing("the application role needs PostgreSQL (DATABASE_URL=postgres://...)")
    role = f"{connection.settings_dict['NAME']}_app"[:60]
    call_command("create_app_role", role=role, password_env="NO_SUCH_VARIABLE")
    params = connection.get_connection_params()
    conn = psycopg2.connect(dbname=params["dbname"] if "dbname" in params else params["database"],
                            host=params.get("host") or "127.0.0.1", port=params.get("port") or 5432, user=role,
                            password=params.get("password") or None)
    conn.autocommit = True
    yield conn
    conn.close()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


def _run(conn, statement: str):
    with conn.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall() if cursor.description else None


def test_the_app_role_appends_and_reads_audit_events(app_role):
    _run(app_role, f"INSERT INTO {TABLE} (at, actor_client, action, object_type, object_id, site_code, user_agent, "
                   "detail, request_id) VALUES (now(), 'test', 'probe', '', '', '', '', '{}', gen_random_uuid())")
    assert _run(app_role, f"SELECT count(*) FROM {TABLE} WHERE action = 'probe'") == [(1,)]


def test_the_app_role_still_reads_and_writes_the_clinical_tables(app_role):
    _run(app_role, "INSERT INTO patients_site (code, name, country) VALUES ('ZZ', 'Probe', 'LU')")
    _run(app_role, "UPDATE patients_site SET name = 'Probe 2' WHERE code = 'ZZ'")
    _run(app_role, "DELETE FROM patients_site WHERE code = 'ZZ'")


@pytest.mark.parametrize("what", list(REFUSED))
def test_the_app_role_cannot_erase_or_forge_the_audit_trail(app_role, what):
    _run(app_role, f"INSERT INTO {TABLE} (at, actor_client, action, object_type, object_id, site_code, user_agent, "
                   "detail, request_id) VALUES (now(), 'test', 'kept', '', '', '', '', '{}', gen_random_uuid())")
    with pytest.raises(psycopg2.Error) as caught:
        _run(app_role, REFUSED[what])
    assert caught.value.pgcode in ("42501", "P0001"), caught.value  # insufficient privilege, or the trigger
    assert _run(app_role, f"SELECT count(*) FROM {TABLE} WHERE action = 'kept'") == [(1,)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = 'clinnova_audit_append_only'")
        assert cursor.fetchall() == [("O",)]


def test_the_command_explains_that_sqlite_has_no_roles(db, settings):
    if connection.vendor != "sqlite":
        pytest.skip("this is about the embedded SQLite database")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("create_app_role", role="x")
