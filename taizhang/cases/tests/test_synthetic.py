import datetime as dt
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from taizhang.audit.models import AuditEvent
from taizhang.cases import policies
from taizhang.cases.models import Acceptance, Assignment, Case, FollowUp, ProgressReport, Recheck
from taizhang.cases.synthetic import GENERATED, generate, generate_once
from taizhang.cases.workflow import HANDED_OVER_STATES, State
from taizhang.core.credit_code import is_valid_credit_code
from taizhang.orgs.models import Enterprise

NOW = dt.datetime(2024, 6, 14, 4, 0, tzinfo=dt.UTC)
CLOCKS = ("sign_for_due_at", "decline_due_at", "next_report_due_at", "completion_due_at", "ledger_review_due_at",
          "followup_due_at", "recheck_due_at")
# The clocks that run in each state (closed: the re-check clock until the re-check is done).
RUNNING = {
    State.HANDED_OVER: {"sign_for_due_at", "decline_due_at", "completion_due_at"},
    State.RECTIFYING: {"next_report_due_at", "completion_due_at"},
    State.ON_LEDGER: {"next_report_due_at", "ledger_review_due_at"},
    State.AWAITING_FOLLOWUP: {"followup_due_at"},
}
LEAD_STATUS = {
    State.HANDED_OVER: Assignment.Status.PENDING,
    State.RECTIFYING: Assignment.Status.SIGNED,
    State.ON_LEDGER: Assignment.Status.SIGNED,
}


class Rollback(Exception):
    pass


def fingerprint():
    return list(Case.objects.order_by("number").values_list(
        "number", "title", "state", "source", "mode", "category__name", "responsible_org__name", "merged_into__number",
        "version"))


def generate_and_forget(n, seed):
    """Generate into the test database and roll it back: each run starts from the same empty state."""
    try:
        with transaction.atomic():
            generate(n, seed, now=NOW)
            rows = fingerprint()
            raise Rollback
    except Rollback:
        pass
    return rows


@pytest.mark.django_db
def test_same_seed_same_cases_other_seed_other_cases():
    first = generate_and_forget(500, seed=1)
    again = generate_and_forget(500, seed=1)
    other = generate_and_forget(500, seed=2)

    assert Case.objects.count() == 0
    assert len(first) == 500
    assert first == again
    assert [row[1] for row in other] != [row[1] for row in first]


@pytest.fixture
def generated(db):
    result = generate(500, seed=1, now=NOW)
    return result


def test_every_state_appears(generated):
    states = set(Case.objects.values_list("state", flat=True))
    assert states == {s.value for s in State}
    assert sum(generated.states.values()) == generated.created == 500


def test_assignments_match_the_state(generated):
    for case in Case.objects.prefetch_related("assignments"):
        assignments = list(case.assignments.all())
        leads = [a for a in assignments if a.role == Assignment.Role.LEAD]
        if case.state in HANDED_OVER_STATES:
            assert len(leads) == 1, case.number
            assert leads[0].status in policies.ACTIVE_ASSIGNMENT
            expected = LEAD_STATUS.get(State(case.state), Assignment.Status.DONE)
            assert leads[0].status == expected, case.number
            assert case.responsible_org_id is not None
            assert case.deadline_on is not None
            if expected != Assignment.Status.PENDING:
                assert all(a.signed_at and a.signed_at <= case.updated_at for a in assignments)
        elif case.state == State.AWAITING_APPROVAL:
            assert len(leads) == 1
            assert {a.status for a in assignments} == {Assignment.Status.PROPOSED}
        else:
            assert assignments == [], case.number


def test_clocks_match_the_state(generated):
    for case in Case.objects.all():
        running = {name for name in CLOCKS if getattr(case, name) is not None}
        if case.state == State.CLOSED:
            rechecked = case.rechecks.exists()
            assert running == (set() if rechecked else {"recheck_due_at"}), case.number
        else:
            assert running == RUNNING.get(State(case.state), set()), case.number


def test_lifecycle_rows_are_consistent(generated):
    now = NOW
    accepted = {State.AWAITING_FOLLOWUP, State.AWAITING_CLOSURE, State.CLOSED}
    for case in Case.objects.all():
        assert case.created_at <= case.updated_at <= now
        assert case.found_on <= timezone.localdate(case.created_at)
        passed = case.acceptances.filter(verdict=Acceptance.Verdict.PASSED).count()
        assert passed == (1 if case.state in accepted else 0), case.number
        followups = case.followups.count()
        assert followups == (1 if case.state in (State.AWAITING_CLOSURE, State.CLOSED) else 0), case.number
        if case.state in (State.AWAITING_ACCEPTANCE, *accepted):
            assert case.evidence.exists(), case.number
        if case.state == State.CLOSED:
            assert case.closed_at
            assert case.closed_by_id
            assert case.closure_opinion
            assert case.closed_at <= case.updated_at
        else:
            assert case.closed_at is None
        if case.state == State.MERGED:
            survivor = case.merged_into
            assert survivor is not None
            assert survivor.state not in (State.MERGED, State.DISMISSED)
            assert survivor.created_at <= case.created_at
        else:
            assert case.merged_into_id is None
    for report in ProgressReport.objects.select_related("case"):
        assert report.case.created_at <= report.reported_at <= report.case.updated_at
    assert FollowUp.objects.filter(satisfaction__lt=FollowUp.Satisfaction.BASICALLY_SATISFIED).count() == 0
    assert Recheck.objects.filter(held=False).count() == 0


def test_numbers_are_unique_and_follow_registration(generated):
    rows = list(Case.objects.values_list("number", "created_at"))
    numbers = [number for number, _ in rows]
    assert len(set(numbers)) == len(numbers) == 500
    by_year: dict[str, list[tuple[int, dt.datetime]]] = {}
    for number, created in rows:
        match = re.fullmatch(r"([A-Z]+)-(\d{4})-(\d{4,})", number)
        assert match is not None
        prefix, year, serial = match.groups()
        assert prefix == "CC"
        assert int(year) == timezone.localdate(created).year
        by_year.setdefault(year, []).append((int(serial), created))
    for serials in by_year.values():
        serials.sort()
        assert [s for s, _ in serials] == list(range(1, len(serials) + 1))
        assert [c for _, c in serials] == sorted(c for _, c in serials)


def test_one_audit_event_per_case_and_a_valid_chain(generated):
    events = AuditEvent.objects.filter(action=GENERATED)
    assert sorted(events.values_list("object_id", flat=True)) == sorted(Case.objects.values_list("number", flat=True))
    assert events.filter(after__batch="seed-1").count() == 500
    from taizhang.audit.verify import verify_chain

    assert verify_chain().ok


def test_enterprises_have_valid_credit_codes_and_tags(generated):
    codes = list(Enterprise.objects.values_list("credit_code", flat=True))
    assert len(codes) > 200
    assert all(is_valid_credit_code(code) for code in codes)
    assert Enterprise.objects.filter(tags__tag="little_giant").exists()


def test_personas_see_a_working_district(generated, world):
    assert policies.scope(world.supervisor).count() == 500
    assert 0 < policies.scope(world.unit_leader).count() < 500
    assert policies.scope(world.liaison).exists()
    assert not policies.scope(world.outsider).exists()


@pytest.mark.django_db
def test_generate_once_is_idempotent_per_batch():
    assert generate_once(40, 5, batch="demo-test").created == 40
    assert generate_once(40, 5, batch="demo-test").created == 0
    assert Case.objects.count() == 40
    assert generate(10, 5).created == 10  # plain generate always adds
    assert Case.objects.count() == 50


@pytest.mark.django_db
def test_generate_command_reports_rate():
    out = StringIO()
    call_command("generate", cases=30, seed=3, stdout=out)
    assert Case.objects.count() == 30
    assert re.search(r"已生成 30 个问题，用时 \d+\.\d 秒（每秒 \d+ 个）", out.getvalue())


def test_services_keep_numbering_after_generation(generated, world):
    from taizhang.cases import services

    last = max(int(n.rsplit("-", 1)[1]) for n in Case.objects.filter(number__startswith="CC-2024-")
               .values_list("number", flat=True))
    with time_machine.travel(NOW, tick=False):
        case = services.register_case(actor=world.supervisor, source="hotline", title="新登记",
                                      description="生成数据之后登记")
    assert case.number == f"CC-2024-{last + 1:04d}"
    assert case.pk > max(Case.objects.exclude(pk=case.pk).values_list("pk", flat=True))


@pytest.mark.django_db
def test_unindexed_generation_becomes_searchable_after_reindex():
    from taizhang.search.indexing import reindex_all
    from taizhang.search.models import SearchDocument

    generate(40, 11, search_index=False)
    assert SearchDocument.objects.count() == 0
    assert reindex_all() == 40
    assert SearchDocument.objects.count() == Case.objects.count() == 40
