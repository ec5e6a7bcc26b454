"""The services keep the index current, in their transaction; search never widens scope."""

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

from taizhang.cases import policies, services
from taizhang.cases.listing import LedgerFilters, ledger_page
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.core.errors import ValidationFailed
from taizhang.search import query as search_query
from taizhang.search.indexing import index_cases, reindex_all
from taizhang.search.models import SearchDocument
from taizhang.testing import matrix


def found(user, q):
    return set(search_query.filter_cases(policies.scope(user), q).values_list("number", flat=True))


def test_a_registered_case_is_found_at_once(world):
    case = services.register_case(actor=world.supervisor, source="hotline", title="园区路面积水",
                                  description="雨后厂区门前积水", enterprises=[world.enterprise])
    assert found(world.supervisor, "积水") == {case.number}
    assert found(world.supervisor, case.number) == {case.number}
    assert found(world.supervisor, world.enterprise.credit_code[:10]) == {case.number}
    assert found(world.supervisor, "精工零部件") == {case.number}  # the enterprise's name


def test_reported_progress_is_found_and_scope_still_applies(world):
    with time_machine.travel(matrix.MOMENT, tick=False):
        case = matrix.drive(matrix.Cast.own(world), State.RECTIFYING)
        assert found(world.handler, "新建外线工程") == set()
        services.report_progress(case, actor=world.handler, text="新建外线工程已完工，正在调试")
    assert found(world.handler, "新建外线工程") == {case.number}
    assert found(world.supervisor, "外线工程已完") == {case.number}
    # The sibling unit and a foreign supervisor search the same words and get nothing.
    assert found(world.sibling_handler, "新建外线工程") == set()
    assert found(world.outsider, "新建外线工程") == set()
    assert found(world.sibling_handler, case.number) == set()
    sibling_page = ledger_page(world.sibling_handler, LedgerFilters(q="新建外线工程"))
    assert sibling_page.rows == []
    assert [row["number"] for row in ledger_page(world.handler, LedgerFilters(q="新建外线工程")).rows] == [case.number]


def test_the_index_rolls_back_with_the_change(world):
    with time_machine.travel(matrix.MOMENT, tick=False):
        case = matrix.drive(matrix.Cast.own(world), State.RECTIFYING)
        before = SearchDocument.objects.get(case=case).body
        inside = []

        def report_then_fail():
            with transaction.atomic():
                services.report_progress(case, actor=world.handler, text="新建外线工程")
                inside.append(found(world.handler, "新建外线工程"))
                raise RuntimeError

        with pytest.raises(RuntimeError):
            report_then_fail()
        assert inside == [{case.number}]  # found inside the transaction
        with pytest.raises(ValidationFailed):
            services.report_progress(case, actor=world.handler, text="   ")
    assert SearchDocument.objects.get(case=case).body == before
    assert found(world.handler, "新建外线工程") == set()


def test_renaming_an_enterprise_reindexes_its_cases(world):
    case = services.register_case(actor=world.supervisor, source="hotline", title="融资难",
                                  description="贷款审批慢", enterprises=[world.enterprise])
    world.enterprise.name = "长春改名后精密机械有限公司"
    world.enterprise.save()
    assert found(world.supervisor, "改名后") == {case.number}
    assert found(world.supervisor, "精工零部件") == set()


def test_index_cases_is_set_based_and_drops_documents_of_deleted_cases(world, django_assert_max_num_queries):
    made = [services.register_case(actor=world.supervisor, source="hotline", title=f"问题{i}", description="描述")
            for i in range(30)]
    ids = [c.pk for c in made]
    with django_assert_max_num_queries(8):
        assert index_cases(ids) == 30
    SearchDocument.objects.filter(case_id__in=ids[:3]).delete()
    assert index_cases([*ids[:3], 999999]) == 3
    assert SearchDocument.objects.count() == 30


def test_reindex_command_rebuilds_everything_in_batches(world, capsys):
    made = [services.register_case(actor=world.supervisor, source="hotline", title=f"积水点{i}", description="描述")
            for i in range(5)]
    SearchDocument.objects.all().delete()
    assert found(world.supervisor, "积水点") == set()
    call_command("reindex", batch_size=2)
    out = capsys.readouterr().out
    assert "indexed 2/5" in out
    assert "indexed 5/5" in out
    assert found(world.supervisor, "积水点") == {c.number for c in made}
    assert reindex_all() == Case.objects.count()


def test_generated_cases_are_searchable(db):
    from taizhang.cases.synthetic import generate

    generate(30, seed=3, chunk_size=10)
    assert SearchDocument.objects.count() == Case.objects.count() == 30
    case = Case.objects.order_by("pk").first()
    assert case is not None
    assert case.pk in set(search_query.filter_cases(Case.objects.all(), case.title).values_list("pk", flat=True))


def test_a_new_case_is_indexed_from_the_values_in_hand_exactly_as_a_reindex_would(world):
    other = world.enterprise.__class__.objects.exclude(pk=world.enterprise.pk).first()
    chosen = [world.enterprise, *([other] if other else [])]
    case = services.register_case(actor=world.supervisor, source="hotline", title="  路灯不亮 ",
                                  description="Ａ区 road-7 路灯\x1f长期不亮", enterprises=chosen)
    written = SearchDocument.objects.values("body", "terms").get(case=case)
    index_cases([case.pk])
    assert SearchDocument.objects.values("body", "terms").get(case=case) == written
    assert found(world.supervisor, "路灯") == {case.number}
    assert found(world.supervisor, "ROAD-7") == {case.number}
