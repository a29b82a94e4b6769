"""Roles as groups, and an audit table that PostgreSQL refuses to rewrite."""

from django.db import migrations

ROLES = ("clinician", "model_admin", "privacy_officer")

TRIGGER = """
CREATE OR REPLACE FUNCTION clinnova_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER clinnova_audit_append_only
    BEFORE UPDATE OR DELETE ON clinnova_auditevent
    FOR EACH ROW EXECUTE FUNCTION clinnova_audit_append_only();
"""
# TRUNCATE is left to the database owner: Django's test flush uses it, and in
# production the application's role is granted INSERT and SELECT only (DEVELOPERS.md).
# The embedded SQLite database refuses updates too; deletes stay possible there
# because Django's test flush empties tables with DELETE.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER clinnova_audit_no_update BEFORE UPDATE ON clinnova_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END;",
]


def roles_create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER)
    elif schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_TRIGGERS:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("clinnova", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunPython(roles_create, migrations.RunPython.noop),
        migrations.RunPython(append_only, migrations.RunPython.noop),
    ]
