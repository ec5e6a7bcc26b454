import django.db.models.deletion
from django.db import migrations, models

# SQLite: an FTS5 table over the pre-tokenised terms (external content: the terms live once, in
# search_searchdocument), kept in step by triggers. `ascii` keeps every non-ASCII character inside a
# term; `detail=none` stores which documents hold a term and nothing more, all an AND query needs.
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(terms, content='search_searchdocument', content_rowid='case_id', "
    "tokenize='ascii', detail='none', columnsize=0)",
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_searchdocument BEGIN "
    "INSERT INTO search_fts(rowid, terms) VALUES (new.case_id, new.terms); END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_searchdocument BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, terms) VALUES ('delete', old.case_id, old.terms); END",
    "CREATE TRIGGER search_document_au AFTER UPDATE ON search_searchdocument BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, terms) VALUES ('delete', old.case_id, old.terms); "
    "INSERT INTO search_fts(rowid, terms) VALUES (new.case_id, new.terms); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS search_document_au",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TABLE IF EXISTS search_fts",
]
# PostgreSQL: the terms become a tsvector as they are (array_to_tsvector: no parser, no dictionary,
# the `simple` behaviour without its locale-dependent word splitting) in a generated column with GIN.
POSTGRES_FORWARD = [
    "ALTER TABLE search_searchdocument ADD COLUMN vector tsvector "
    "GENERATED ALWAYS AS (array_to_tsvector(string_to_array(NULLIF(terms, ''), ' '))) STORED",
    "CREATE INDEX search_document_vector_gin ON search_searchdocument USING gin (vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_document_vector_gin",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS vector",
]


class RunSQLFor(migrations.RunSQL):
    """RunSQL that applies on one database vendor only."""

    def __init__(self, vendor, sql, reverse_sql):
        self.vendor = vendor
        super().__init__(sql, reverse_sql)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        return name, [self.vendor, kwargs.pop("sql"), kwargs.pop("reverse_sql", None)], kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='SearchDocument',
            fields=[
                ('case', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search_document', serialize=False, to='cases.case', verbose_name='case')),
                ('body', models.TextField(verbose_name='indexed text')),
                ('terms', models.TextField(verbose_name='index terms')),
            ],
            options={
                'verbose_name': 'search document',
                'verbose_name_plural': 'search documents',
            },
        ),
        RunSQLFor('sqlite', SQLITE_FORWARD, SQLITE_BACKWARD),
        RunSQLFor('postgresql', POSTGRES_FORWARD, POSTGRES_BACKWARD),
    ]
