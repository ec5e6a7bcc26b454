"""The supervision part of the demo story: after the 回头看, a 会商 on keeping enterprises' power supply
steady, whose decision is a follow-up task on the story case, and a 监察建议 to 净月区党工委 on power supply
guarantees, replied to and evaluated. Every step is a service call at its historical moment."""

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from taizhang.cases.models import Case
from taizhang.core import clock
from taizhang.supervision import services
from taizhang.supervision.models import Recommendation
from taizhang.testing.personas import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECOMMENDATION_TITLE = "健全重点企业供电保障机制"
DECISION = ("区建设发展局会同国网长春供电公司建立重点企业供电保障联系机制，计划停电提前告知企业，"
            "每季度通报线路运行情况。")


def _at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=SHANGHAI)


def replay_supervision(w: World, story: Case) -> None:
    """Record the story's meeting and recommendation once; running it again changes nothing."""
    if Recommendation.objects.filter(title=RECOMMENDATION_TITLE, addressed_org=w.district).exists():
        return
    state: dict[str, int] = {}
    steps: list[tuple[dt.datetime, Callable[[], object]]] = [
        (_at(2023, 5, 19), lambda: state.update(meeting=services.record_meeting(
            actor=w.supervisor, convening_org=w.city, kind="consultation", title="重点企业供电保障问题会商",
            held_on=dt.date(2023, 5, 19), location="长春市纪委监委第三会议室",
            topics="通报净月高新区企业供电闪断问题整改和回头看情况，研究建立重点企业供电保障长效机制。",
            participant_orgs=[w.district, w.lead_unit, w.power_company],
            participants=[w.supervisor, w.unit_leader, w.co_leader]).pk)),
        (_at(2023, 5, 19, 11), lambda: state.update(decision=services.add_decision(
            state["meeting"], actor=w.supervisor, text=DECISION, assignee_org=w.lead_unit,
            due_on=dt.date(2023, 6, 30), cases=[story.number]).pk)),
        (_at(2023, 5, 25), lambda: state.update(recommendation=services.create_recommendation(
            actor=w.supervisor, issuing_org=w.city, addressed_org=w.district, kind="supervision",
            title=RECOMMENDATION_TITLE, cases=[story.number], inspection_round=w.round,
            problems="巡察发现，辖区部分重点企业供电稳定性差，线路检修和计划停电未提前告知企业，"
                     "无征兆闪断造成企业半成品报废、设备受损。",
            causes="供电保障工作缺少部门协同机制，对重点企业用电需求掌握不及时。",
            recommendations="一、建立重点企业供电保障联系机制，明确牵头部门和供电企业责任。\n"
                            "二、计划停电、线路检修提前告知企业，线路异常第一时间响应。\n"
                            "三、定期排查重点企业供电线路隐患，建立问题台账，逐项整改销号。").pk)),
        (_at(2023, 5, 26), lambda: services.issue_recommendation(state["recommendation"], actor=w.supervisor)),
        (_at(2023, 6, 20), lambda: services.reply_to_recommendation(
            state["recommendation"], actor=w.unit_leader,
            reply="区党工委专题研究部署：一是由区建设发展局牵头，会同国网长春供电公司建立重点企业供电保障"
                  "联系机制；二是计划停电一律提前3天告知企业；三是完成辖区47家重点企业供电线路隐患排查，"
                  "发现问题5项，已整改4项，余下1项纳入台账推进。")),
        (_at(2023, 6, 28), lambda: services.complete_decision(
            state["decision"], actor=w.unit_leader, note="联系机制已印发实施，首季度线路运行情况已通报。")),
        (_at(2023, 6, 30), lambda: services.evaluate_recommendation(
            state["recommendation"], actor=w.supervisor, outcome="adopted",
            evaluation="回复措施具体，经抽查核实，建议已采纳并落实到位。")),
    ]
    for moment, step in steps:
        with clock.replaying(moment):
            step()
