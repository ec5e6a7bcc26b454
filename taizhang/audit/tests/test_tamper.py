"""The acceptance criterion: an attacker with database rights lifts the triggers, rewrites history
and puts the triggers back; the verifier names the first bad event, and so does `verify_audit`."""

import datetime as dt
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from taizhang import cli
from taizhang.audit.chain import seal
from taizhang.audit.models import AuditChainHead, AuditEvent
from taizhang.audit.services import SYSTEM, build_event
from taizhang.audit.tests.tampering import sql, trigger_names, triggers_lifted
from taizhang.audit.verify import Reason, verify_chain

PARKED = 1_000_000  # a free seq for moving rows around the unique constraint


@dataclass(frozen=True)
class Expected:
    reason: Reason
    seq: int
    event_id: int | None


def ids(events) -> dict[int, int]:
    return {e.seq: e.pk for e in events}


def shift_up_from(seq: int) -> None:
    sql("UPDATE audit_auditevent SET seq = seq + %s WHERE seq >= %s", [PARKED, seq])
    sql("UPDATE audit_auditevent SET seq = seq - %s + 1 WHERE seq >= %s", [PARKED, PARKED])


def swap_seq(a: int, b: int) -> None:
    sql("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [PARKED, a])
    sql("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [a, b])
    sql("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [b, PARKED])


def forge(seq: int, prev_hash: str, *, plausible: bool = True) -> AuditEvent:
    event = build_event(actor=SYSTEM, action="case.closed", object_type="case", object_id="CC-2022-0099",
                        object_repr="伪造的销号记录")
    seal(event, seq=seq, prev_hash=prev_hash)
    if not plausible:
        event.hash = hashlib.sha256(b"made up").hexdigest()
    event.save(force_insert=True)
    return event


# Each attack rewrites the trail and returns what the verifier must report.
def edit_text(by_seq: dict[int, int]) -> Expected:
    sql("UPDATE audit_auditevent SET object_repr = %s WHERE seq = 4", ["企业反映问题已解决"])
    return Expected(Reason.HASH_MISMATCH, 4, by_seq[4])


def edit_time(by_seq: dict[int, int]) -> Expected:
    moment = AuditEvent.objects.get(seq=4).occurred_at - dt.timedelta(days=3)
    sql("UPDATE audit_auditevent SET occurred_at = %s WHERE seq = 4", [moment])
    return Expected(Reason.HASH_MISMATCH, 4, by_seq[4])


def edit_json(by_seq: dict[int, int]) -> Expected:
    after = AuditEvent.objects.get(seq=4).after
    AuditEvent.objects.filter(seq=4).update(after={**after, "state": "closed"})
    return Expected(Reason.HASH_MISMATCH, 4, by_seq[4])


def edit_actor(by_seq: dict[int, int]) -> Expected:
    sql("UPDATE audit_auditevent SET actor_id = 99, actor_name = %s WHERE seq = 4", ["李书记"])
    return Expected(Reason.HASH_MISMATCH, 4, by_seq[4])


def edit_and_rehash(by_seq: dict[int, int]) -> Expected:
    # A careful attacker recomputes the edited row's hash: the next row no longer links to it.
    event = AuditEvent.objects.get(seq=4)
    event.object_repr = "改写"
    seal(event, seq=4, prev_hash=event.prev_hash)
    AuditEvent.objects.filter(pk=event.pk).update(object_repr=event.object_repr, hash=event.hash)
    return Expected(Reason.PREV_HASH_MISMATCH, 5, by_seq[5])


def delete_middle(by_seq: dict[int, int]) -> Expected:
    sql("DELETE FROM audit_auditevent WHERE seq = 6")
    return Expected(Reason.SEQ_GAP, 7, by_seq[7])


def delete_and_close_gap(by_seq: dict[int, int]) -> Expected:
    sql("DELETE FROM audit_auditevent WHERE seq = 6")
    sql("UPDATE audit_auditevent SET seq = seq - 1 WHERE seq > 6")
    return Expected(Reason.PREV_HASH_MISMATCH, 6, by_seq[7])


def delete_first(by_seq: dict[int, int]) -> Expected:
    sql("DELETE FROM audit_auditevent WHERE seq = 1")
    return Expected(Reason.SEQ_GAP, 2, by_seq[2])


def insert_forged(by_seq: dict[int, int]) -> Expected:
    shift_up_from(6)
    forged = forge(6, AuditEvent.objects.get(seq=5).hash)
    return Expected(Reason.OUT_OF_ORDER, 6, forged.pk)


def insert_forged_with_made_up_hash(by_seq: dict[int, int]) -> Expected:
    shift_up_from(6)
    forged = forge(6, AuditEvent.objects.get(seq=5).hash, plausible=False)
    return Expected(Reason.HASH_MISMATCH, 6, forged.pk)


def swap_far(by_seq: dict[int, int]) -> Expected:
    swap_seq(4, 7)
    return Expected(Reason.PREV_HASH_MISMATCH, 4, by_seq[7])


def swap_adjacent(by_seq: dict[int, int]) -> Expected:
    swap_seq(4, 5)
    return Expected(Reason.PREV_HASH_MISMATCH, 4, by_seq[5])


def delete_last(by_seq: dict[int, int]) -> Expected:
    sql("DELETE FROM audit_auditevent WHERE seq = 10")
    return Expected(Reason.HEAD_MISMATCH, 10, None)


def delete_head(by_seq: dict[int, int]) -> Expected:
    AuditChainHead.objects.all().delete()
    return Expected(Reason.HEAD_MISSING, None, None)  # type: ignore[arg-type]


def append_around_the_writer(by_seq: dict[int, int]) -> Expected:
    forged = forge(11, AuditEvent.objects.get(seq=10).hash)
    return Expected(Reason.HEAD_MISMATCH, 11, forged.pk)


ATTACKS: list[Callable[[dict[int, int]], Expected]] = [
    edit_text, edit_time, edit_json, edit_actor, edit_and_rehash, delete_middle, delete_and_close_gap,
    delete_first, insert_forged, insert_forged_with_made_up_hash, swap_far, swap_adjacent, delete_last,
    delete_head, append_around_the_writer,
]


def test_an_untouched_chain_verifies(ten_events):
    result = verify_chain(chunk_size=3)
    assert result.ok
    assert (result.checked, result.head_seq, result.head_hash) == (10, 10, ten_events[-1].hash)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().startswith("OK: 10 events verified")
    quiet = io.StringIO()
    call_command("verify_audit", "--quiet", stdout=quiet)
    assert quiet.getvalue() == ""


def test_an_empty_trail_verifies(db):
    assert verify_chain().ok
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().startswith("OK: 0 events verified")


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.__name__)
def test_tampering_is_pinpointed(ten_events, attack):
    deployed = trigger_names()
    with triggers_lifted():
        expected = attack(ids(ten_events))
    assert trigger_names() == deployed

    problem = verify_chain(chunk_size=4).problem
    assert problem is not None
    assert (problem.reason, problem.seq, problem.event_id) == (expected.reason, expected.seq, expected.event_id)

    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", "--quiet", stdout=io.StringIO())
    assert failure.value.returncode == 1
    message = str(failure.value)
    assert f"[{expected.reason.value}]" in message
    if expected.seq is not None:
        assert f"#{expected.seq} " in message
    if expected.event_id is not None:
        assert f"(id {expected.event_id})" in message
        row = AuditEvent.objects.get(pk=expected.event_id)
        assert f"{row.action} case:{row.object_id}" in message


def test_the_first_of_several_problems_is_named(ten_events):
    with triggers_lifted():
        sql("UPDATE audit_auditevent SET object_repr = 'x' WHERE seq IN (3, 8)")
        sql("DELETE FROM audit_auditevent WHERE seq = 10")
    problem = verify_chain().problem
    assert problem is not None
    assert (problem.reason, problem.seq) == (Reason.HASH_MISMATCH, 3)


def test_a_writer_after_the_attack_does_not_hide_it(ten_events):
    with triggers_lifted():
        sql("UPDATE audit_auditevent SET object_repr = 'x' WHERE seq = 2")
    with transaction.atomic():
        from taizhang.audit.tests.conftest import record

        record(1, prefix="CC-2023")
    problem = verify_chain().problem
    assert problem is not None
    assert (problem.reason, problem.seq) == (Reason.HASH_MISMATCH, 2)


def run_console_script(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["taizhang", "verify-audit", *args])
    # The command closes connections when done; keep the test's transaction open.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    code = 0
    try:
        cli.main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_console_script_exits_zero_on_an_intact_chain(ten_events, monkeypatch, capsys):
    code, out, _err = run_console_script(monkeypatch, capsys)
    assert code == 0
    assert out.startswith("OK: 10 events verified")


def test_the_console_script_exits_non_zero_on_tampering(ten_events, monkeypatch, capsys):
    with triggers_lifted():
        sql("DELETE FROM audit_auditevent WHERE seq = 6")
    code, out, err = run_console_script(monkeypatch, capsys, "--quiet")
    assert code == 1
    assert out == ""
    assert f"#7 (id {ten_events[6].pk})" in err
    assert "[seq_gap]" in err
