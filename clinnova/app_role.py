"""The database role the application runs as: everything it needs, and nothing that could rewrite the audit trail.

The owner of the tables (the role that runs migrations) can TRUNCATE the audit
table, disable or drop its append-only trigger, or set session_replication_role
to skip triggers altogether. The application therefore connects as another role
that owns nothing: it may read and write the clinical tables, but on the audit
table only INSERT and SELECT. TRUNCATE needs its own privilege, ALTER TABLE and
DROP TRIGGER need ownership, and session_replication_role needs a superuser
(PostgreSQL 15 manual, sections 5.7 "Privileges", ALTER TABLE, DROP TRIGGER and
20.11 "session_replication_role"), so all of them are refused.

Embedded SQLite (make run) has no roles; this applies to PostgreSQL only.
"""

from __future__ import annotations

from django.db import connection

from clinnova.models import AuditEvent

AUDIT_TABLE = AuditEvent._meta.db_table


def app_role_grant(*, role: str, password: str | None) -> list[str]:
    """Create (or update) the application role and set its privileges; returns what was done, in words.

    Idempotent: run it after every migration so new tables are granted too.
    """
    if connection.vendor != "postgresql":
        raise ValueError("application roles exist on PostgreSQL only; embedded SQLite has no roles")
    from psycopg2 import sql

    done = []
    ident = sql.Identifier(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        exists = cursor.fetchone() is not None
        attributes = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT")
        if password:
            attributes = attributes + sql.SQL(" PASSWORD {}").format(sql.Literal(password))
        verb = sql.SQL("ALTER ROLE") if exists else sql.SQL("CREATE ROLE")
        cursor.execute(sql.SQL("{} {} {}").format(verb, ident, attributes))
        done.append(f"{'updated' if exists else 'created'} role {role} (login, no superuser, owns nothing)")
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = cursor.fetchone()
        cursor.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident))
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), ident))
        cursor.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(sql.Identifier(schema), ident))
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema])
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            cursor.execute(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(target, ident))
            privileges = "SELECT, INSERT" if table == AUDIT_TABLE else "SELECT, INSERT, UPDATE, DELETE"
            cursor.execute(sql.SQL(f"GRANT {privileges} ON TABLE {{}} TO {{}}").format(target, ident))
        cursor.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
            sql.Identifier(schema), ident))
        done.append(f"granted SELECT, INSERT, UPDATE, DELETE on {len(tables) - 1} tables and SELECT, INSERT only "
                    f"on {AUDIT_TABLE}")
    return done
