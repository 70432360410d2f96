"""The database, too, refuses to change a consent entry: an UPDATE through raw SQL, another
tool or a future bug aborts. DELETE stays possible, for the cascade of a patient purged
under retention; the ORM refuses deleting an entry on its own."""

from django.db import migrations

MESSAGE = "consent entries are append-only: record a new entry"

SQLITE = [
    f"CREATE TRIGGER consententry_append_only BEFORE UPDATE ON patients_consententry "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_BACK = ["DROP TRIGGER IF EXISTS consententry_append_only"]
POSTGRESQL = [
    "CREATE FUNCTION patients_consententry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$",
    "CREATE TRIGGER consententry_append_only BEFORE UPDATE ON patients_consententry "
    "FOR EACH ROW EXECUTE FUNCTION patients_consententry_append_only()",
]
POSTGRESQL_BACK = [
    "DROP TRIGGER IF EXISTS consententry_append_only ON patients_consententry",
    "DROP FUNCTION IF EXISTS patients_consententry_append_only()",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [("patients", "0002_consententry_contactpreference")]

    operations = [
        migrations.RunPython(_run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
                             _run({"sqlite": SQLITE_BACK, "postgresql": POSTGRESQL_BACK})),
    ]
