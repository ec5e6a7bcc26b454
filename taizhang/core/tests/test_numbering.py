import threading

import pytest
from django.db import connection, connections, transaction

from taizhang.core.models import NumberSequence
from taizhang.core.numbering import next_in_sequence, next_public_number


@pytest.mark.django_db
def test_numbers_are_sequential_per_prefix_and_year():
    assert [next_public_number("CC", 2025) for _ in range(3)] == ["CC-2025-0001", "CC-2025-0002", "CC-2025-0003"]
    assert next_public_number("DB", 2025) == "DB-2025-0001"
    assert next_public_number("CC", 2026) == "CC-2026-0001"
    assert next_public_number("CC", 2025) == "CC-2025-0004"
    assert dict(NumberSequence.objects.filter(prefix="CC").values_list("year", "last")) == {2025: 4, 2026: 1}


@pytest.mark.django_db
def test_number_drawn_in_a_rolled_back_transaction_is_reused():
    assert next_in_sequence("SV", 2025) == 1

    def draw_then_fail() -> None:
        with transaction.atomic():
            assert next_in_sequence("SV", 2025) == 2
            raise RuntimeError("the case was not saved")

    with pytest.raises(RuntimeError):
        draw_then_fail()
    assert next_in_sequence("SV", 2025) == 2


@pytest.mark.django_db
def test_numbers_past_four_digits_keep_growing():
    NumberSequence.objects.create(prefix="CC", year=2025, last=9999)
    assert next_public_number("CC", 2025) == "CC-2025-10000"


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("existing_row", [False, True], ids=["first-number-race", "existing-sequence"])
def test_concurrent_draws_give_no_duplicates_and_no_gaps(existing_row):
    if existing_row:
        NumberSequence.objects.create(prefix="CC", year=2025, last=0)
    threads_count, per_thread = 8, 25
    start = threading.Barrier(threads_count)
    drawn: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def draw() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                number = next_in_sequence("CC", 2025)
                with lock:
                    drawn.append(number)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=draw) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(drawn) == list(range(1, threads_count * per_thread + 1))
    assert NumberSequence.objects.get(prefix="CC", year=2025).last == threads_count * per_thread
