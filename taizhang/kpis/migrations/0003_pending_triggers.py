"""The database marks a case pending for the measures' roll-up whenever a fact of it changes, whoever
writes it (services, the sweeper's set-based updates, imports, raw SQL): its assignments, follow-ups,
acceptance verdicts, re-checks and escalations; the case's own deadline, supervisor, state, category or
source; an organisation above its units moving, closing or changing kind; a holiday inside its handling
time. Cases that already have facts are marked once here."""

from django.db import migrations

PENDING = "kpis_kpipending"
FACT_TABLES = {  # table → the columns whose change matters on UPDATE (None: any)
    "cases_assignment": "case_id, org_id, role, status, sign_for_due_at, signed_at, completed_at",
    "cases_followup": None,
    "cases_acceptance": None,
    "cases_recheck": None,
    "sla_escalation": None,
}
CASE_COLUMNS = "deadline_on, supervising_org_id, state, category_id, source"
ORG_COLUMNS = "path, is_active, kind"


def _cases_under_org(row: str, sqlite: bool) -> str:
    under = f"substr(o.path, 1, length({row}.path)) = {row}.path" if sqlite else f"starts_with(o.path, {row}.path)"
    return f"SELECT a.case_id FROM cases_assignment a JOIN orgs_organisation o ON o.id = a.org_id WHERE {under}"


def _cases_handled_around(row: str, sqlite: bool) -> str:
    """Cases whose lead unit's handling time may include the calendar day of `row` (a margin of a day on
    each side for the time zone)."""
    before, after = ((f"date({row}.date, '+2 day')", f"date({row}.date, '-1 day')") if sqlite
                     else (f"{row}.date + 2", f"{row}.date - 1"))
    return (f"SELECT case_id FROM cases_assignment WHERE role = 'lead' AND signed_at IS NOT NULL "
            f"AND completed_at IS NOT NULL AND signed_at < {before} AND completed_at > {after}")


def _sqlite() -> list[str]:
    statements = []

    def trigger(name: str, event: str, table: str, body: list[str]) -> None:
        inserts = " ".join(f"INSERT INTO {PENDING} (case_id) {select};" for select in body)
        statements.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {inserts} END;")

    for table, columns in FACT_TABLES.items():
        update = f"UPDATE OF {columns}" if columns else "UPDATE"
        trigger(f"{table}_kpi_insert", "INSERT", table, ["VALUES (NEW.case_id)"])
        trigger(f"{table}_kpi_update", update, table,
                ["VALUES (NEW.case_id)", "SELECT OLD.case_id WHERE OLD.case_id <> NEW.case_id"])
        trigger(f"{table}_kpi_delete", "DELETE", table, ["VALUES (OLD.case_id)"])
    trigger("cases_case_kpi_update", f"UPDATE OF {CASE_COLUMNS}", "cases_case", ["VALUES (NEW.id)"])
    trigger("orgs_organisation_kpi_update", f"UPDATE OF {ORG_COLUMNS}", "orgs_organisation",
            [_cases_under_org("OLD", sqlite=True), _cases_under_org("NEW", sqlite=True)])
    for event, rows in (("INSERT", ["NEW"]), ("UPDATE", ["OLD", "NEW"]), ("DELETE", ["OLD"])):
        trigger(f"core_calendarday_kpi_{event.lower()}", event, "core_calendarday",
                [_cases_handled_around(row, sqlite=True) for row in rows])
    return statements


SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS {table}_kpi_{event};"
                   for table in [*FACT_TABLES, "core_calendarday"] for event in ("insert", "update", "delete")] + [
    "DROP TRIGGER IF EXISTS cases_case_kpi_update;", "DROP TRIGGER IF EXISTS orgs_organisation_kpi_update;"]


def _postgres() -> list[str]:
    def function(name: str, body: str) -> str:
        return (f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body} RETURN NULL; END; $$ "
                f"LANGUAGE plpgsql;")

    statements = [
        function("kpis_mark_fact", f"""
            IF TG_OP IN ('UPDATE', 'DELETE') THEN INSERT INTO {PENDING} (case_id) VALUES (OLD.case_id); END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN INSERT INTO {PENDING} (case_id) VALUES (NEW.case_id); END IF;"""),
        function("kpis_mark_case", f"INSERT INTO {PENDING} (case_id) VALUES (NEW.id);"),
        function("kpis_mark_org", f"""
            INSERT INTO {PENDING} (case_id) {_cases_under_org("OLD", sqlite=False)};
            INSERT INTO {PENDING} (case_id) {_cases_under_org("NEW", sqlite=False)};"""),
        function("kpis_mark_calendar", f"""
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                INSERT INTO {PENDING} (case_id) {_cases_handled_around("OLD", sqlite=False)}; END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO {PENDING} (case_id) {_cases_handled_around("NEW", sqlite=False)}; END IF;"""),
    ]
    for table, columns in FACT_TABLES.items():
        update = f"UPDATE OF {columns}" if columns else "UPDATE"
        statements.append(f"CREATE TRIGGER {table}_kpi AFTER INSERT OR {update} OR DELETE ON {table} "
                          f"FOR EACH ROW EXECUTE FUNCTION kpis_mark_fact();")
    statements += [
        f"CREATE TRIGGER cases_case_kpi AFTER UPDATE OF {CASE_COLUMNS} ON cases_case "
        f"FOR EACH ROW EXECUTE FUNCTION kpis_mark_case();",
        f"CREATE TRIGGER orgs_organisation_kpi AFTER UPDATE OF {ORG_COLUMNS} ON orgs_organisation "
        f"FOR EACH ROW EXECUTE FUNCTION kpis_mark_org();",
        "CREATE TRIGGER core_calendarday_kpi AFTER INSERT OR UPDATE OR DELETE ON core_calendarday "
        "FOR EACH ROW EXECUTE FUNCTION kpis_mark_calendar();",
    ]
    return statements


POSTGRES_BACKWARD = [f"DROP TRIGGER IF EXISTS {table}_kpi ON {table};"
                     for table in [*FACT_TABLES, "cases_case", "orgs_organisation", "core_calendarday"]] + [
    f"DROP FUNCTION IF EXISTS {name}();"
    for name in ("kpis_mark_fact", "kpis_mark_case", "kpis_mark_org", "kpis_mark_calendar")]
MARK_EXISTING = f"INSERT INTO {PENDING} (case_id) SELECT DISTINCT case_id FROM cases_assignment;"


def _run(forward: bool):
    def run(apps, schema_editor):
        sqlite = schema_editor.connection.vendor == "sqlite"
        if forward:
            statements = [*(_sqlite() if sqlite else _postgres()), MARK_EXISTING]
        else:
            statements = SQLITE_BACKWARD if sqlite else POSTGRES_BACKWARD
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("kpis", "0002_rollup"),
        ("cases", "0006_followup_acceptance_round"),
        ("sla", "0004_escalation_supervising_clocks"),
        ("orgs", "0001_initial"),
        ("core", "0002_seed_calendar"),
    ]

    operations = [migrations.RunPython(_run(forward=True), _run(forward=False))]
