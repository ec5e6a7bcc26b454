import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from taizhang.accounts.models import User
from taizhang.audit.models import AuditEvent
from taizhang.cases.demo import STORY_TITLE, SUPPLY_CHECKLIST, load_demo
from taizhang.cases.models import Acceptance, Assignment, Case, Evidence
from taizhang.cases.workflow import State
from taizhang.core import files
from taizhang.orgs.models import Organisation
from taizhang.testing.personas import PASSWORD, build_world

SHANGHAI = ZoneInfo("Asia/Shanghai")
STORY_ACTIONS = [
    "case.registered", "case.assessment_started", "case.handover_proposed", "case.handed_over",
    "case.signed_for", "case.assignment_signed_for", "case.progress_reported", "case.progress_reported",
    "case.progress_reported", "case.extension_requested", "case.extension_decided", "case.progress_reported",
    "case.assignment_completed", "case.submitted_for_acceptance", "case.accepted", "case.followup_recorded",
    "case.closed", "case.rechecked",
    "case.meeting_decision", "case.meeting_decision_done",  # the 会商 after the re-check (supervision.demo)
]


def local(moment):
    return moment.astimezone(SHANGHAI)


def counts():
    return {model.__name__: model.objects.count()
            for model in (Case, AuditEvent, Evidence, Assignment, User, Organisation)}


@pytest.mark.django_db
def test_load_demo_replays_the_seed_story_at_its_dates():
    summary = load_demo()
    case = Case.objects.get(number=summary.story_number)
    w = build_world()

    assert summary.story_created
    assert case.title == STORY_TITLE
    assert case.state == State.CLOSED
    assert case.inspection_round == w.round
    assert case.source == Case.Source.INSPECTION
    assert case.mode == Case.Mode.IMMEDIATE
    assert case.category == w.category
    assert list(case.enterprises.all()) == [w.enterprise]
    assert case.responsible_org == w.district
    assert case.deadline_on == dt.date(2023, 1, 20)  # the granted extension for the switchover
    assert local(case.created_at).date() == dt.date(2022, 11, 21)
    assert local(case.closed_at).date() == dt.date(2023, 2, 15)
    assert case.recheck_due_at is None
    assert case.reopen_count == 0

    lead, co = (case.assignments.get(role=Assignment.Role.LEAD), case.assignments.get(role=Assignment.Role.CO))
    assert (lead.org, lead.status) == (w.lead_unit, Assignment.Status.DONE)
    assert (co.org, co.status) == (w.power_company, Assignment.Status.DONE)
    assert local(co.completed_at).date() == dt.date(2023, 1, 15)

    acceptances = list(case.acceptances.all())
    assert [a.verdict for a in acceptances] == [Acceptance.Verdict.PASSED]
    followup = case.followups.get()
    assert (followup.solved, followup.satisfaction, followup.channel) == ("solved", 5, "visit")
    recheck = case.rechecks.get()
    assert recheck.held
    assert local(recheck.checked_at).date() == dt.date(2023, 5, 15)
    assert case.closed_at is not None
    assert (recheck.checked_at - case.closed_at).days >= 89

    evidence = list(case.evidence.all())
    assert len(evidence) == 4
    for item in evidence:
        with item.file.open("rb") as handle:
            kind = files.sniff(handle.read())
        assert kind is not None
        assert kind.mime == item.content_type
    assert {e.content_type for e in evidence} == {"application/pdf", "image/png"}

    story_page_shows_the_closing_of_the_loop(case, w)

    events = list(AuditEvent.objects.filter(object_type="case", object_id=case.number).order_by("seq"))
    assert [e.action for e in events] == STORY_ACTIONS
    moments = [e.occurred_at for e in events]
    assert moments == sorted(moments)
    assert local(moments[0]).date() == dt.date(2022, 11, 21)
    assert local(moments[-1]).date() == dt.date(2023, 6, 28)
    assert {local(m).year for m in moments} == {2022, 2023}
    assert events[0].actor_name == str(w.inspector)
    assert events[3].actor == w.approver  # approval by the leader


def story_page_shows_the_closing_of_the_loop(case, w):
    """The case page: the 供电 acceptance checklist, the 巡察办 follow-up visit and the closure opinion."""
    acceptance = case.acceptances.get()
    assert acceptance.checklist == dict.fromkeys(SUPPLY_CHECKLIST, True)
    assert set(acceptance.team.all()) == {w.supervisor, w.inspector}
    client = Client()
    client.force_login(w.supervisor)
    html = client.get(reverse("web:case", args=[case.number]), secure=True).content.decode()
    for item in SUPPLY_CHECKLIST:
        assert item in html
    assert "市委巡察办回访" in html  # the follow-up visit's note
    assert "整改到位，企业满意，同意销号。" in html


@pytest.mark.django_db
def test_load_demo_twice_changes_nothing_and_keeps_the_chain_valid():
    first = load_demo()
    before = counts()
    assert first.synthetic_created == 300
    assert before["Case"] == 301

    second = load_demo()

    assert counts() == before
    assert second.story_number == first.story_number
    assert not second.story_created
    assert second.synthetic_created == 0
    assert AuditEvent.objects.filter(action="case.generated").count() == 300
    from taizhang.audit.verify import verify_chain

    result = verify_chain()
    assert result.ok, result.problem
    assert result.checked == AuditEvent.objects.count()


@pytest.mark.django_db
def test_demo_logins_are_exactly_the_personas():
    load_demo()
    personas = build_world().personas()

    logins = {u.username for u in User.objects.all() if u.has_usable_password()}

    assert logins == {u.username for u in personas.values()}
    assert all(check_password(PASSWORD, u.password) for u in personas.values())
    assert User.objects.filter(username__startswith="syn-").exists()  # synthetic staff: names only


@pytest.mark.django_db
def test_load_demo_command_prints_a_summary():
    out = StringIO()
    call_command("load_demo", stdout=out)
    number = Case.objects.get(title=STORY_TITLE).number
    assert number in out.getvalue()
    assert PASSWORD in out.getvalue()
