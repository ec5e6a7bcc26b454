"""通报: generated from the KPIs and the ledger, edited, issued with a number, published redacted."""

import datetime as dt
from typing import Any

import pytest

from taizhang.core.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.orgs.models import Enterprise
from taizhang.supervision import policies, services
from taizhang.supervision.bulletins import MASK
from taizhang.supervision.models import Bulletin

pytestmark = pytest.mark.django_db

PERIOD: dict[str, Any] = {"period_start": dt.date(2024, 3, 1), "period_end": dt.date(2024, 3, 31)}


def generate(world):
    return services.generate_bulletin(actor=world.supervisor, issuing_org=world.city,
                                      units=[world.lead_unit, world.sibling_unit], **PERIOD)


def test_generated_from_kpis_and_ledger_then_edited_and_issued(world, case):
    bulletin = generate(world)
    assert bulletin.state == "draft"
    assert [s["key"] for s in bulletin.sections] == ["overview", "ranking", "overdue", "typical", "requirements"]
    assert "共承办整改问题1件" in bulletin.sections[0]["text"]
    assert {row["org_id"] for row in bulletin.ranking} == {world.lead_unit.pk, world.sibling_unit.pk}
    assert bulletin.ranking[0]["rank"] == 1
    assert all({"numerator", "denominator", "rate"} <= set(figure) for row in bulletin.ranking
               for figure in row["figures"].values())
    assert world.lead_unit.name in bulletin.sections[1]["text"]

    bulletin = services.edit_bulletin(bulletin.pk, actor=world.supervisor, version=bulletin.version,
                                      title="关于三月份问题整改情况的通报", sections={"requirements": "限期整改到位。"},
                                      distribution=[world.district, world.lead_unit])
    assert bulletin.sections[-1]["text"] == "限期整改到位。"
    with pytest.raises(ValidationFailed):
        services.edit_bulletin(bulletin.pk, actor=world.supervisor, sections={"nonsense": "x"})
    with pytest.raises(PermissionDenied):
        services.edit_bulletin(bulletin.pk, actor=world.viewer, title="改")
    # a draft stays with the issuing side
    assert not policies.bulletins_scope(world.unit_leader).filter(pk=bulletin.pk).exists()

    bulletin = services.issue_bulletin(bulletin.pk, actor=world.supervisor)
    assert bulletin.number == "CC通〔2024〕1号"
    with pytest.raises(IllegalTransition):
        services.edit_bulletin(bulletin.pk, actor=world.supervisor, title="改")
    with pytest.raises(IllegalTransition):
        services.issue_bulletin(bulletin.pk, actor=world.supervisor)
    assert Bulletin.objects.get(pk=bulletin.pk).title == "关于三月份问题整改情况的通报"
    # once issued, the distribution list and the units covered (and their subtrees) see it; others do not
    assert policies.bulletins_scope(world.handler).filter(pk=bulletin.pk).exists()
    assert not policies.bulletins_scope(world.co_leader).filter(pk=bulletin.pk).exists()
    with pytest.raises(NotFound):
        services.get_bulletin_for(world.outsider, bulletin.pk)


def test_the_public_version_carries_no_personal_data(world, case):
    case.__class__.objects.filter(pk=case.pk).update(
        reporter_name="李四（举报人）", reporter_anonymous=True, reporter_contact="13912345678",
        responsible_person="刘局长（区建设发展局）")
    Enterprise.objects.filter(pk=world.enterprise.pk).update(contact_name="钱经理", contact_phone="0431-81010001")
    bulletin = generate(world)
    leaky = ("经核查，李四反映的问题属实，经办人张三（手机13912345678）未及时处理，刘局长已作检查；"
             "企业联系人钱经理，电话0431-81010001，邮箱qian@example.com，身份证220102199001011234。")
    bulletin = services.edit_bulletin(bulletin.pk, actor=world.supervisor, sections={"typical": leaky})
    bulletin = services.issue_bulletin(bulletin.pk, actor=world.supervisor)
    with pytest.raises(PermissionDenied):
        services.publish_bulletin(bulletin.pk, actor=world.viewer)
    bulletin = services.publish_bulletin(bulletin.pk, actor=world.supervisor)
    public = "\n".join(s["text"] for s in bulletin.public_sections)
    for secret in ("李四", "张三", "刘局长", "钱经理", "13912345678", "0431-81010001", "qian@example.com",
                   "220102199001011234", world.supervisor.display_name):
        assert secret not in public
    assert MASK in public
    assert "经核查" in public
    assert world.lead_unit.name in public
    # the internal version is untouched, and publishing twice is refused
    assert leaky in [s["text"] for s in Bulletin.objects.get(pk=bulletin.pk).sections]
    with pytest.raises(IllegalTransition):
        services.publish_bulletin(bulletin.pk, actor=world.supervisor)


def test_bad_periods_and_units_create_nothing(world, at_moment):
    with pytest.raises(ValidationFailed):
        services.generate_bulletin(actor=world.supervisor, issuing_org=world.city, units=[world.lead_unit],
                                   period_start=dt.date(2024, 3, 31), period_end=dt.date(2024, 3, 1))
    with pytest.raises(ValidationFailed):
        services.generate_bulletin(actor=world.supervisor, issuing_org=world.city, units=[], **PERIOD)
    with pytest.raises(PermissionDenied):
        services.generate_bulletin(actor=world.unit_leader, issuing_org=world.city, units=[world.lead_unit],
                                   **PERIOD)
    assert not Bulletin.objects.exists()
