"""The demo story of DESIGN.md §7, replayed through the services at its historical moments.

An inspection group finds that a precision-parts maker in 净月高新区 suffers unannounced power
flicker; the case is assessed, approved, handed over for immediate rectification, fixed with a new
external line, accepted against the 供电 checklist by a team independent of the handling units, followed
up by a 巡察办 visit (satisfied), closed and re-checked three months later. Every step is a
service call inside `clock.replaying(...)`, so the case timeline carries the 2022/2023 dates.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from taizhang.cases import services, synthetic
from taizhang.cases.models import AcceptanceChecklistItem, Case
from taizhang.core import clock
from taizhang.followup.demo import replay_look_back
from taizhang.supervision.demo import replay_supervision
from taizhang.testing.personas import PASSWORD, World, build_world

SHANGHAI = ZoneInfo("Asia/Shanghai")
STORY_TITLE = "企业厂区频繁无征兆供电闪断，精密部件生产受损"
SYNTHETIC_CASES = 300
SYNTHETIC_SEED = 20230115
SYNTHETIC_BATCH = "demo"


@dataclass(frozen=True)
class DemoSummary:
    story_number: str
    story_created: bool
    synthetic_created: int
    total_cases: int
    password: str = PASSWORD


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A moment in Changchun local time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# --- small real evidence files -------------------------------------------------------------------

def _pdf_file(name: str, lines: list[str]) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, synthetic.make_pdf(lines), content_type="application/pdf")


def _png_file(name: str, seed: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, synthetic.make_png(seed=seed), content_type="image/png")


# --- the story -----------------------------------------------------------------------------------

# The acceptance checklist of 要素保障 (and so of 供电 below it), replacing the default set there.
SUPPLY_CHECKLIST = ("外线工程竣工验收资料齐全", "电力外线切换完成", "现场核查供电平稳", "企业确认")


def configure_checklists(w: World) -> None:
    factors = w.category.parent
    for position, label in enumerate(SUPPLY_CHECKLIST):
        AcceptanceChecklistItem.objects.get_or_create(category=factors, label=label,
                                                      defaults={"position": position})


def find_story_case(w: World) -> Case | None:
    return Case.objects.filter(title=STORY_TITLE, inspection_round=w.round).order_by("pk").first()


def replay_story(w: World) -> Case:
    """Walk the seed case through its whole lifecycle at the dates of the article."""
    steps: list[tuple[dt.datetime, Callable[[Case | None], Case]]] = [
        (at(2022, 11, 21, 9, 30), lambda _c: services.register_case(
            actor=w.inspector, source=Case.Source.INSPECTION, title=STORY_TITLE,
            description=(
                "市委第二巡察组在净月高新技术产业开发区开展机动式巡察期间走访发现：该企业厂区供电稳定性差，"
                "经常在没有任何预告的情况下突然闪断。企业生产的精密部件工艺和自动化程度高，每次闪断都会"
                "造成加工中的半成品报废、设备控制程序丢失，甚至损坏关键设备、中断测试流程，给生产研发和"
                "实验测试带来较大损失。"),
            found_on=dt.date(2022, 11, 18), inspection_round=w.round, category=w.category,
            enterprises=[w.enterprise], reporter_name="吴总（企业负责人）", reporter_contact="0431-8101 0001",
            internal_note="机动式巡察走访企业时发现。")),
        (at(2022, 11, 22, 15, 0), lambda c: services.assess_case(
            c, actor=w.inspector, category=w.category, mode=Case.Mode.IMMEDIATE,
            note="组务会综合研判：稳定供电关系企业安全生产，净月区党工委应承担优化营商环境主体责任，"
                 "建议作为重点立行立改事项。")),
        (at(2022, 11, 22, 16, 30), lambda c: services.propose_handover(
            c, actor=w.inspector, responsible_org=w.district, lead_org=w.lead_unit, co_orgs=[w.power_company],
            mode=Case.Mode.IMMEDIATE, responsible_leader="净月区党工委分管负责同志",
            responsible_person="刘局长（区建设发展局）",
            goal="巡察期间完成新建外线工程及相关供电设施建设，消除无征兆闪断，保障企业连续稳定生产。",
            note="移交净月区党工委立行立改，区建设发展局牵头，供电公司配合。")),
        (at(2022, 11, 23, 10, 0), lambda c: services.approve_handover(
            c, actor=w.approver, note="同意移交，要求巡察期间立即整改，积极回应企业诉求。")),
        (at(2022, 11, 24, 9, 0), lambda c: services.sign_for_case(
            c, actor=w.unit_leader, note="已签收。区党工委当即部署，由我局配合电力部门推进外线工程及设施建设。")),
        (at(2022, 11, 24, 14, 0), lambda c: services.sign_for_assignment(
            c, actor=w.co_leader, note="供电公司签收配合任务，负责外线工程设计施工。")),
        (at(2022, 11, 30, 16, 0), lambda c: services.report_progress(
            c, actor=w.handler, text="制定整改工作方案：新建外线工程、改造相关供电设施，明确时间节点和责任人。",
            evidence=[_pdf_file("整改工作方案.pdf", [
                "Rectification plan - new external power line", "Jingyue Hi-tech Zone, 2022-11-30",
                "Lead: District Construction and Development Bureau", "Co-handling: power supply company"])])),
        (at(2022, 12, 12, 11, 0), lambda c: services.report_progress(
            c, actor=w.co_leader, text="外线工程进场施工，杆塔基础及电缆敷设已完成约六成。")),
        (at(2022, 12, 29, 17, 0), lambda c: services.report_progress(
            c, actor=w.handler, text="新建外线工程及相关供电设施建设竣工，并完成竣工验收。",
            evidence=[_pdf_file("外线工程竣工验收单.pdf", [
                "Completion acceptance record - external power line", "Accepted on 2022-12-29",
                "Result: passed"]),
                _png_file("竣工现场照片.png", seed=1)])),
        (at(2022, 12, 29, 17, 30), lambda c: services.request_extension(
            c, actor=w.unit_leader, requested_deadline=dt.date(2023, 1, 20),
            reason="外线切换须停电作业，需与企业生产计划错峰安排，拟于2023年1月中旬完成切换。")),
        (at(2022, 12, 30, 9, 30), lambda c: services.decide_extension(
            c, actor=w.approver, granted=True, note="同意延期至2023年1月20日，切换完成后及时报送佐证材料。")),
        (at(2023, 1, 15, 16, 0), lambda c: services.report_progress(
            c, actor=w.co_leader, text="完成电力外线切换，企业由新建线路供电，运行平稳。",
            evidence=[_png_file("外线切换完成照片.png", seed=2)])),
        (at(2023, 1, 15, 17, 0), lambda c: services.complete_assignment(
            c, actor=w.co_leader, note="供电公司配合任务完成。")),
        (at(2023, 1, 16, 10, 0), lambda c: services.submit_for_acceptance(
            c, actor=w.unit_leader, summary="新建外线工程已竣工验收，1月15日完成电力外线切换，企业供电恢复稳定。",
            institution_building="建立重点企业供电保障联系机制：计划停电提前告知企业，线路异常由供电公司"
                                 "第一时间响应。")),
        (at(2023, 2, 6, 10, 0), lambda c: services.accept_case(
            c, actor=w.supervisor, opinion="经现场核查和查阅资料，整改措施落实到位，同意通过验收。",
            checklist=dict.fromkeys(SUPPLY_CHECKLIST, True), team=[w.inspector.pk])),
        (at(2023, 2, 10, 15, 0), lambda c: services.record_followup(
            c, actor=w.supervisor, solved="solved", satisfaction=5, channel="visit",
            note="市委巡察办回访：工作人员到厂走访，企业负责人表示线路改造后再未发生异常断电，厂内电压平稳，"
                 "生产项目顺利进行，对整改结果非常满意。")),
        (at(2023, 2, 15, 10, 0), lambda c: services.close_case(
            c, actor=w.supervisor, opinion="整改到位，企业满意，同意销号。")),
    ]
    case: Case | None = None
    for moment, step in steps:
        with clock.replaying(moment):
            case = step(case)
    assert case is not None
    replay_look_back(w, case)  # the 回头看 campaign of May 2023, in which the case is checked: held
    case.refresh_from_db()
    return case


def load_demo() -> DemoSummary:
    """Load the demo world, the seed story and the synthetic district. Running it again changes nothing."""
    with transaction.atomic():
        w = build_world()
        configure_checklists(w)
        story = find_story_case(w)
        created = story is None
        if story is None:
            story = replay_story(w)
        replay_supervision(w, story)
    generated = synthetic.generate_once(SYNTHETIC_CASES, SYNTHETIC_SEED, batch=SYNTHETIC_BATCH).created
    return DemoSummary(story_number=story.number, story_created=created, synthetic_created=generated,
                       total_cases=Case.objects.count())
