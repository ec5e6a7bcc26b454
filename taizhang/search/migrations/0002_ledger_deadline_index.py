from django.db import migrations

# The ledger pages by (deadline_on, id) in either direction (cases.listing.Sort): one composite index
# serves both, on SQLite and PostgreSQL. It is created here, not in cases' Meta.indexes, to keep this
# change out of the cases migration chain other work is extending; it can move there later unchanged
# (same name, same columns) with a SeparateDatabaseAndState.


class Migration(migrations.Migration):

    dependencies = [
        ('search', '0001_search_document'),
        ('cases', '0001_initial'),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS case_deadline_keyset ON cases_case (deadline_on, id)",
            "DROP INDEX IF EXISTS case_deadline_keyset",
        ),
    ]
