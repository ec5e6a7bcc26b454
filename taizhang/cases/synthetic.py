"""Synthetic cases for demos and benchmarks: a working district in bulk.

`generate(n, seed)` writes `n` realistic cases spread over every state of the workflow, with the
rows each state implies (assignments, progress reports, evidence, acceptance, follow-up, re-check)
and the clocks the services would have set. It is deterministic for a seed and set-based: rows are
bulk-inserted in chunks, public numbers are reserved with one counter bump per prefix and year, and
each case gets one `case.generated` audit event appended to the hash chain. It deliberately does not
call the per-case services; the demo story (`cases.demo`) does that.
"""

import datetime as dt
import gc
import hashlib
import math
import operator
import random
import struct
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone

from taizhang.accounts.models import Membership, User
from taizhang.accounts.roles import Role
from taizhang.audit.models import AuditEvent
from taizhang.audit.services import ActorContext
from taizhang.cases.models import (
    Acceptance,
    Assignment,
    Case,
    Category,
    Evidence,
    FollowUp,
    PlanItem,
    ProgressReport,
    Recheck,
)
from taizhang.cases.workflow import Clock, State
from taizhang.core import clock, workdays
from taizhang.core.credit_code import ALPHABET, make_credit_code
from taizhang.core.models import NumberSequence
from taizhang.orgs.models import Enterprise, EnterpriseTag, InspectionRound, LiaisonAssignment, Organisation
from taizhang.search.indexing import index_cases
from taizhang.sla import deadlines
from taizhang.testing.personas import World, build_world

GENERATED = "case.generated"
GENERATOR = ActorContext(user_id=None, name="synthetic data generator")
REFERENCE_SEED = 20221107  # the reference district never depends on the case seed
ENTERPRISE_COUNT = 240
CHUNK_SIZE = 2500


@dataclass(frozen=True)
class GenerateResult:
    created: int
    seconds: float
    states: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.created / self.seconds if self.seconds > 0 else 0.0


# --- reference data: the district the cases live in -----------------------------------------------

DISTRICTS = [  # (responsible body, number-free short name, administrative division)
    ("净月区党工委", "净月区", "220173"),
    ("长春新区党工委", "长春新区", "220172"),
    ("经开区党工委", "经开区", "220171"),
    ("汽开区党工委", "汽开区", "220174"),
    ("朝阳区委", "朝阳区", "220104"),
]
DEPARTMENTS = {
    "build": "建设发展局", "business": "营商环境建设局", "finance": "财政局", "market": "市场监督管理局",
    "land": "自然资源局", "approval": "行政审批局", "city": "城市管理局", "labour": "人力资源和社会保障局",
    "economy": "经济发展局",
}
# The persona world already holds two of 净月's departments under their own names.
PERSONA_DEPARTMENTS = {"build": "区建设发展局", "business": "区营商环境建设局"}
EXTERNALS = {
    "power": ["国网长春供电公司"],
    "water": ["长春水务集团"],
    "gas": ["长春燃气股份有限公司"],
    "bank": ["吉林银行长春分行", "中国建设银行长春分行", "长春农商银行"],
}
GROUPS = ["市委第一巡察组", "市委第二巡察组", "市委第三巡察组", "市委第四巡察组"]

BRAND_CHARS = "华鑫瑞恒泰德宏盛远达科信联创汇锦润丰启航凯博英智诚嘉禾新天中金益通顺安"
INDUSTRIES = [
    ("精密机械", "精密零部件制造"), ("汽车零部件", "汽车零部件制造"), ("光电科技", "光电子器件制造"),
    ("生物医药", "生物药品制造"), ("新材料", "新材料研发"), ("智能装备", "专用设备制造"),
    ("食品", "农副食品加工"), ("软件", "软件和信息技术服务"), ("医疗器械", "医疗仪器设备制造"),
    ("电子科技", "电子元件制造"), ("物流", "道路货物运输"), ("建材", "建筑材料制造"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰建国志红波宇浩然晨阳"
ROADS = ["净月大街", "生态大街", "福祉大路", "博硕路", "聚业大街", "新城大街", "临河街", "卫星路", "东方广场路"]
PARKS = ["数字经济产业园", "光电信息产业园", "生物医药产业园", "汽车零部件产业园", "科技创新园"]


@dataclass(frozen=True)
class Topic:
    """A kind of problem: where it sits in the category tree, who handles it and how it reads."""

    path: tuple[str, ...]
    lead: tuple[str, ...]  # department keys
    co: tuple[str, ...]  # department keys or "ext:<kind>"
    titles: tuple[str, ...]
    details: tuple[str, ...]
    measures: tuple[str, ...]
    progress: tuple[str, ...]
    weight: int = 10


TOPICS = [
    Topic(("营商环境", "要素保障", "供电"), ("build",), ("ext:power",),
          ("{ent}反映厂区供电电压不稳、频繁跳闸", "{ent}所在{park}多次无预告停电", "{ent}申请增容扩建迟迟未接电"),
          ("企业反映近{m}个月内发生停电或闪断{n}次，生产线被迫停机，造成在制品损失约{amt}万元。",
           "园区配电线路老化，高峰时段负荷不足，企业新上生产线无法满负荷运行。"),
          ("组织供电部门排查线路隐患并制定改造方案", "新建或改造外线工程，提高供电可靠性",
           "建立计划停电提前告知企业机制"),
          ("已完成线路隐患排查，确定改造方案。", "改造工程已开工，预计月底前完工。", "线路改造完成，运行平稳。"),
          weight=12),
    Topic(("营商环境", "要素保障", "供水"), ("build", "city"), ("ext:water",),
          ("{ent}反映厂区供水压力不足", "{park}供水管网漏损影响企业生产用水"),
          ("企业用水高峰时段水压明显不足，清洗和冷却工序受影响。",
           "园区主管网多处渗漏，近{m}个月已停水抢修{n}次。"),
          ("排查管网漏点并实施修复", "增设加压设施，保障园区用水", "建立管网巡检制度"),
          ("已完成漏点排查，确定修复计划。", "加压泵站安装调试中。", "管网修复完成，水压恢复正常。")),
    Topic(("营商环境", "要素保障", "供气"), ("build",), ("ext:gas",),
          ("{ent}天然气接入工程进展缓慢", "{ent}反映冬季供气紧张影响生产"),
          ("企业{m}个月前提出用气申请，接入工程至今未完成。", "冬季高峰时段限气，企业热处理工序被迫减产。"),
          ("协调燃气公司加快接入工程进度", "制定冬季保供方案"),
          ("已召开协调会，明确接入工程节点。", "接入工程完成通气验收。")),
    Topic(("营商环境", "要素保障", "用地"), ("land",), ("build", "approval"),
          ("{ent}扩建项目用地手续办理受阻", "{ent}反映已摘牌地块长期未交付"),
          ("企业扩建项目已完成立项，因用地规划调整手续停滞{m}个月。",
           "企业竞得地块后，地块内遗留建筑未清理，无法开工建设。"),
          ("梳理用地手续堵点，建立专班推进", "完成地块清表并交付企业", "优化用地审批流程"),
          ("已成立工作专班，逐项梳理手续。", "地块清表工作完成过半。", "用地手续办结，地块已交付。")),
    Topic(("营商环境", "政务服务", "审批"), ("approval",), ("market", "build"),
          ("{ent}反映项目审批环节多、时限长", "{ent}施工许可办理反复补正材料"),
          ("企业反映一个项目需跑{n}个部门、提交重复材料，审批时间超过{m}个月。",
           "窗口人员一次性告知不到位，企业多次往返补正。"),
          ("推行一口受理、一次办结", "编制办事指南并一次性告知", "压缩审批时限"),
          ("已开通专窗受理。", "许可已办结，后续将推广并联审批。")),
    Topic(("营商环境", "政务服务", "政策兑现"), ("economy", "finance"), ("business",),
          ("{ent}申报的扶持资金迟迟未兑现", "{ent}反映惠企政策申报流程不清"),
          ("企业{m}个月前通过评审的扶持资金{amt}万元至今未拨付。", "政策条款解释不一，企业无所适从。"),
          ("核实拨付进度并限期兑现", "公开政策兑现流程和时限"),
          ("已核实资金拨付手续。", "资金已拨付到位。")),
    Topic(("营商环境", "金融服务", "融资"), ("finance", "economy"), ("ext:bank",),
          ("{ent}反映流动资金贷款审批难", "专精特新企业{ent}融资成本偏高"),
          ("企业订单增长，流动资金缺口约{amt}万元，银行授信审批周期长。",
           "企业反映贷款综合成本较高，希望享受专精特新企业利率优惠。"),
          ("组织政企银对接，推荐适配信贷产品", "落实快速放贷、利率优惠等政策"),
          ("已组织银企对接会，银行完成尽调。", "贷款已发放，利率下浮。")),
    Topic(("营商环境", "市场秩序", "拖欠账款"), ("finance",), ("economy",),
          ("{ent}反映工程款被长期拖欠", "{ent}反映政府采购项目尾款未结"),
          ("企业承接的项目验收已满{m}个月，尚有{amt}万元未支付。", "采购合同约定的付款期限已过，多次催要无果。"),
          ("核实欠款情况并制定清偿计划", "按计划清偿欠款", "建立防止拖欠长效机制"),
          ("已完成欠款核实，制定分期清偿计划。", "首期款项已支付。", "欠款已全部清偿。"), weight=8),
    Topic(("营商环境", "市场秩序", "执法检查"), ("market",), ("city",),
          ("{ent}反映涉企检查频次过多", "{ent}反映执法标准不一、处罚畸重"),
          ("企业反映近{m}个月接受各类检查{n}次，影响正常经营。", "同类问题不同部门处罚尺度差异大。"),
          ("推行联合检查、一次到位", "规范自由裁量基准", "建立涉企检查备案制度"),
          ("已梳理检查事项清单。", "联合检查机制已建立。")),
    Topic(("城市管理", "基础设施", "道路"), ("city", "build"), ("build",),
          ("{road}路面破损影响{ent}货车通行", "{park}配套道路未贯通"),
          ("{road}部分路段坑洼严重，企业原料和成品运输受阻。", "园区规划道路{m}个月未贯通，企业车辆绕行。"),
          ("对破损路段进行修复", "加快道路贯通工程"),
          ("已完成路面勘察，编制修复方案。", "路面修复完成，恢复通行。")),
    Topic(("城市管理", "基础设施", "排水"), ("city",), ("build",),
          ("{road}雨季积水倒灌{ent}厂房", "{park}雨污管网未接通"),
          ("每逢强降雨{road}路面积水，雨水倒灌厂区，去年造成损失约{amt}万元。",
           "园区雨污管网未与市政管网接通，企业排水受限。"),
          ("疏通改造排水管网", "雨季前完成积水点整治"),
          ("已完成排水管网疏通。", "积水点改造完工。")),
    Topic(("作风建设", "服务企业", "推诿扯皮"), ("business",), ("approval",),
          ("{ent}反映办事人员推诿扯皮", "{ent}诉求多次反映无人回应"),
          ("企业反映同一事项在部门间来回推诿，{m}个月未得到答复。", "企业通过热线反映{n}次，均未收到实质性答复。"),
          ("明确首问责任人并限时答复", "对相关人员进行提醒谈话"),
          ("已约谈相关责任人。", "诉求已答复办结。"), weight=6),
]

SOURCE_WEIGHTS = [
    (Case.Source.INSPECTION, 25), (Case.Source.ENTERPRISE, 25), (Case.Source.LIAISON, 15),
    (Case.Source.HOTLINE, 20), (Case.Source.ONLINE_REPORT, 8), (Case.Source.SUPERVISION, 5),
    (Case.Source.AUDIT, 2),
]
STATE_WEIGHTS = [
    (State.REGISTERED, 4), (State.ASSESSING, 5), (State.AWAITING_APPROVAL, 3), (State.HANDED_OVER, 4),
    (State.RECTIFYING, 20), (State.ON_LEDGER, 5), (State.AWAITING_ACCEPTANCE, 6), (State.AWAITING_FOLLOWUP, 5),
    (State.AWAITING_CLOSURE, 3), (State.CLOSED, 37), (State.DISMISSED, 4), (State.MERGED, 4),
]
MODE_WEIGHTS = [(Case.Mode.IMMEDIATE, 30), (Case.Mode.DEADLINE, 50), (Case.Mode.LONG_TERM, 20)]
ORDER = [State.REGISTERED, State.ASSESSING, State.AWAITING_APPROVAL, State.HANDED_OVER, State.RECTIFYING,
         State.AWAITING_ACCEPTANCE, State.AWAITING_FOLLOWUP, State.AWAITING_CLOSURE, State.CLOSED]


@dataclass
class Unit:
    org: Organisation
    leader: User | None
    handler: User | None


@dataclass
class District:
    """Everything the generator draws from, in a stable order."""

    world: World
    departments: dict[tuple[int, str], Unit]  # (district index, department key) -> unit
    bodies: list[Organisation]
    externals: dict[str, list[Unit]]
    enterprises: list[tuple[Enterprise, int]]  # (enterprise, district index)
    rounds: list[InspectionRound]
    categories: list[Category]  # parallel to TOPICS
    portfolio: frozenset[int]  # enterprises in the liaison persona's portfolio


def _org(name: str, kind: str, parent: Organisation | None, short: str = "") -> Organisation:
    found, _ = Organisation.objects.get_or_create(name=name, defaults={"kind": kind, "parent": parent,
                                                                        "short_name": short})
    return found


def _staff(username: str, display: str, where: Organisation, role: Role) -> User:
    """A synthetic staff member: a name in the ledger, never a login."""
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, display_name=display)
        user.set_unusable_password()
        user.save()
    Membership.objects.get_or_create(user=user, org=where, role=role)
    return user


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _category(path: Sequence[str]) -> Category:
    parent: Category | None = None
    for name in path:
        parent, _ = Category.objects.get_or_create(name=name, parent=parent)
    assert parent is not None
    return parent


def _enterprises(rng: random.Random, bodies: list[Organisation]) -> list[tuple[Enterprise, int]]:
    """The enterprise pool: fixed names and valid credit codes, created once."""
    names: set[str] = set()
    codes: set[str] = set()
    specs: list[tuple[str, str, str, int, str]] = []
    credit_chars = [c for c in ALPHABET if c.isalnum()]
    while len(specs) < ENTERPRISE_COUNT:
        short, industry = rng.choice(INDUSTRIES)
        name = f"长春{rng.choice(BRAND_CHARS)}{rng.choice(BRAND_CHARS)}{short}有限公司"
        district_index = rng.randrange(len(DISTRICTS))
        code = make_credit_code("91", DISTRICTS[district_index][2], "MA" + "".join(rng.choices(credit_chars, k=6)))
        if name in names or code in codes:
            continue
        names.add(name)
        codes.add(code)
        specs.append((name, code, industry, district_index, rng.choice(Enterprise.Scale.values)))
    existing = {e.credit_code: e for e in Enterprise.objects.filter(credit_code__in=codes).select_related("org")}
    missing = [s for s in specs if s[1] not in existing]
    if missing:
        orgs = Organisation.objects.bulk_create([
            Organisation(name=name, kind=Organisation.Kind.ENTERPRISE, parent=bodies[d]) for name, _, _, d, _ in missing
        ])
        for org in orgs:
            assert org.parent is not None
            org.path = f"{org.parent.path}{org.pk}/"
        Organisation.objects.bulk_update(orgs, ["path"])
        created = Enterprise.objects.bulk_create([
            Enterprise(org=org, name=name, credit_code=code, industry=industry, scale=scale,
                       address=f"长春市{DISTRICTS[d][1]}{rng.choice(ROADS)}{rng.randint(1, 3999)}号",
                       contact_name=_person_name(rng), contact_phone=f"1{rng.randint(3000000000, 8999999999)}")
            for org, (name, code, industry, d, scale) in zip(orgs, missing, strict=True)
        ])
        tags: list[EnterpriseTag] = []
        for enterprise in created:
            draw = rng.random()
            if draw < 0.04:
                tags.append(EnterpriseTag(enterprise=enterprise, tag=EnterpriseTag.Tag.LITTLE_GIANT,
                                          level=EnterpriseTag.Level.NATIONAL))
            elif draw < 0.22:
                tags.append(EnterpriseTag(enterprise=enterprise, tag=EnterpriseTag.Tag.SRDI,
                                          level=rng.choice([EnterpriseTag.Level.PROVINCIAL,
                                                            EnterpriseTag.Level.MUNICIPAL])))
            if rng.random() < 0.35:
                tags.append(EnterpriseTag(enterprise=enterprise, tag=EnterpriseTag.Tag.HIGH_TECH,
                                          level=EnterpriseTag.Level.NATIONAL, granted_on=dt.date(2022, 12, 1)))
            if rng.random() < 0.2:
                tags.append(EnterpriseTag(enterprise=enterprise, tag=EnterpriseTag.Tag.TECH_SME,
                                          level=EnterpriseTag.Level.PROVINCIAL))
        EnterpriseTag.objects.bulk_create(tags)
        existing.update({e.credit_code: e for e in created})
    return [(existing[code], d) for _, code, _, d, _ in specs]


def build_district(today: dt.date) -> District:
    """The persona world plus a few districts, departments, utilities, banks, enterprises and rounds.
    Idempotent: everything is found by name or credit code before it is created."""
    rng = random.Random(REFERENCE_SEED)
    w = build_world()
    bodies: list[Organisation] = []
    departments: dict[tuple[int, str], Unit] = {}
    for index, (name, short, _division) in enumerate(DISTRICTS):
        body = w.district if index == 0 else _org(name, Organisation.Kind.PARTY_COMMITTEE, None, name)
        bodies.append(body)
        for key, suffix in DEPARTMENTS.items():
            if index == 0 and key == "build":
                departments[(index, key)] = Unit(w.lead_unit, w.unit_leader, w.handler)
                continue
            if index == 0 and key == "business":
                departments[(index, key)] = Unit(w.sibling_unit, None, w.sibling_handler)
                continue
            dept = _org(f"{short}{suffix}", Organisation.Kind.DEPARTMENT, body)
            stem = f"syn-d{index}-{key}"
            departments[(index, key)] = Unit(
                dept, _staff(f"{stem}-leader", _person_name(rng), dept, Role.UNIT_LEADER),
                _staff(f"{stem}-handler", _person_name(rng), dept, Role.HANDLER))
    externals: dict[str, list[Unit]] = {}
    for kind, names in EXTERNALS.items():
        for number, name in enumerate(names):
            if name == w.power_company.name:
                externals.setdefault(kind, []).append(Unit(w.power_company, w.co_leader, w.co_leader))
                continue
            ext = _org(name, Organisation.Kind.EXTERNAL, None)
            leader = _staff(f"syn-x-{kind}{number}", _person_name(rng), ext, Role.UNIT_LEADER)
            Membership.objects.get_or_create(user=leader, org=ext, role=Role.HANDLER)
            externals.setdefault(kind, []).append(Unit(ext, leader, leader))
    groups = [w.inspection_group if name == w.inspection_group.name
              else _org(name, Organisation.Kind.INSPECTION_GROUP, w.inspection_office) for name in GROUPS]
    rounds: list[InspectionRound] = []
    for year in range(today.year - 2, today.year + 1):
        for half, (start, end) in enumerate([((3, 6), (5, 26)), ((9, 4), (11, 25))]):
            group = groups[(year + half) % len(groups)]
            body_index = (year * 2 + half) % len(bodies)
            starts = dt.date(year, *start)
            if starts > today:
                continue
            rnd, created = InspectionRound.objects.get_or_create(
                name=f"{group.name}{year}年{'春季' if half == 0 else '秋季'}巡察{DISTRICTS[body_index][1]}",
                defaults={"kind": InspectionRound.Kind.REGULAR, "group": group, "starts_on": starts,
                          "ends_on": dt.date(year, *end)})
            if created:
                rnd.targets.add(bodies[body_index])
            rounds.append(rnd)
    rounds.append(w.round)
    rounds.sort(key=lambda r: (r.starts_on, r.name))
    categories = [_category(topic.path) for topic in TOPICS]
    enterprises = _enterprises(rng, bodies)
    jingyue = [e for e, d in enterprises if d == 0][:20]
    for enterprise in jingyue:
        LiaisonAssignment.objects.get_or_create(liaison=w.liaison, enterprise=enterprise)
    return District(world=w, departments=departments, bodies=bodies, externals=externals, enterprises=enterprises,
                    rounds=rounds, categories=categories,
                    portfolio=frozenset([w.enterprise.pk, *(e.pk for e in jingyue)]))


# --- timelines ------------------------------------------------------------------------------------

@dataclass
class Timeline:
    """Offsets in working days from the case's first day; turned into moments later."""

    state: State
    mode: str
    start: float = 0.0  # registration, within the first working day
    total: float = 0.0
    marks: dict[str, float] = field(default_factory=dict)
    reports: list[float] = field(default_factory=list)
    via_assessment: bool = False


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def plan_timeline(rng: random.Random) -> Timeline:
    """Draw the state, the mode and the working-day offsets of each milestone of one case."""
    state: State = _weighted(rng, STATE_WEIGHTS)
    mode: str = _weighted(rng, MODE_WEIGHTS)
    if state == State.ON_LEDGER:
        mode = Case.Mode.LONG_TERM
    plan = Timeline(state=state, mode=mode)
    t = plan.start = rng.uniform(0.0, 0.9)
    if state in (State.DISMISSED, State.MERGED):
        plan.via_assessment = rng.random() < 0.5
        if plan.via_assessment:
            t += rng.uniform(0.1, 2)
            plan.marks["assessed"] = t
        t += rng.uniform(0.2, 4)
        plan.marks["ended"] = t
        plan.total = t + rng.uniform(0, 230)
        return plan
    reached = ORDER.index(State.RECTIFYING if state == State.ON_LEDGER else state)
    steps = [("assessed", 0.1, 3.0), ("proposed", 0.3, 4.0), ("approved", 0.2, 2.5)]
    for index, (mark, low, high) in enumerate(steps, start=1):
        if reached >= index:
            t += rng.uniform(low, high)
            plan.marks[mark] = t
    if reached >= ORDER.index(State.RECTIFYING):
        t += rng.uniform(0.05, 1.0) if rng.random() < 0.9 else rng.uniform(1.2, 5)
        plan.marks["signed"] = t
        work = {"immediate": (3, 12), "deadline": (8, 28), "long_term": (30, 120)}[mode]
        span = rng.uniform(*work)
        count = rng.randint(1, 3)
        if state in (State.RECTIFYING, State.ON_LEDGER):
            span *= rng.uniform(0.3, 1.1)
        plan.reports = sorted(t + rng.uniform(0.5, span) for _ in range(count))
        if state == State.ON_LEDGER:
            plan.marks["ledger"] = plan.reports[0] + rng.uniform(1, 10)
            plan.reports = sorted([*plan.reports, plan.marks["ledger"] + rng.uniform(1, 20)])
        t = max(plan.reports)
        if reached >= ORDER.index(State.AWAITING_ACCEPTANCE):
            t += rng.uniform(0.2, 3)
            plan.marks["submitted"] = t
        for mark, low, high, needed in [("accepted", 1, 8, State.AWAITING_FOLLOWUP),
                                        ("followed_up", 1, 5, State.AWAITING_CLOSURE),
                                        ("closed", 0.5, 4, State.CLOSED)]:
            if reached >= ORDER.index(needed):
                t += rng.uniform(low, high)
                plan.marks[mark] = t
    idle = {
        State.REGISTERED: (0, 3), State.ASSESSING: (0, 8), State.AWAITING_APPROVAL: (0, 4),
        State.HANDED_OVER: (0, 1.2) if rng.random() < 0.85 else (1.2, 6), State.RECTIFYING: (0, 10),
        State.ON_LEDGER: (0, 40), State.AWAITING_ACCEPTANCE: (0, 6), State.AWAITING_FOLLOWUP: (0, 6),
        State.AWAITING_CLOSURE: (0, 4), State.CLOSED: (0, 230),
    }[state]
    plan.total = t + rng.uniform(*idle)
    if state == State.CLOSED and plan.total - t > 64 and rng.random() < 0.8:
        plan.marks["rechecked"] = t + rng.uniform(60, 64)
    return plan


class Moments:
    """Maps working-day offsets to instants: day k of a case is its k-th working day, during office
    hours (08:30–18:00), and every case ends before `now`'s day."""

    def __init__(self, now: dt.datetime, span: int) -> None:
        self.tz = timezone.get_default_timezone()
        today = timezone.localdate(now)
        days: list[dt.date] = []
        day = today - dt.timedelta(days=1)
        while len(days) < span:
            if workdays.is_workday(day):
                days.append(day)
            day -= dt.timedelta(days=1)
        self.days = days[::-1]
        self.midnights = [dt.datetime.combine(d, dt.time.min, tzinfo=self.tz) for d in self.days]

    def base(self, total: float) -> int:
        return max(0, len(self.days) - 1 - math.ceil(total))

    def at(self, base: int, offset: float) -> dt.datetime:
        whole = math.floor(offset)
        index = min(base + whole, len(self.days) - 1)
        seconds = 8.5 * 3600 + (offset - whole) * 9.5 * 3600
        return self.midnights[index] + dt.timedelta(seconds=int(seconds))


def _case_rng(seed: int, index: int) -> random.Random:
    return random.Random(seed * 1_000_003 + index)


# --- small real evidence files -------------------------------------------------------------------

def make_pdf(lines: list[str]) -> bytes:
    """A minimal, well-formed one-page PDF with ASCII text lines."""
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 12 Tf 72 760 Td 16 TL " + " ".join(f"({escape(line)}) Tj T*" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("latin-1")
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("latin-1")
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode("latin-1")
    return bytes(out)


def make_png(width: int = 96, height: int = 64, seed: int = 0) -> bytes:
    """A small RGB PNG (a sky, a horizon and a power line) built with zlib alone."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            if abs(y - (height // 3 + (x * (seed % 5 + 1)) // width)) < 1:
                rows += bytes((40, 40, 40))
            elif y < height * 2 // 3:
                rows += bytes((150 + (x + seed) % 60, 190, 235))
            else:
                rows += bytes((90, 140 - (x + y + seed) % 30, 70))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
            + chunk(b"IEND", b""))



# --- writing rows ---------------------------------------------------------------------------------

Row = dict[str, Any]
Adapter = Callable[[Any], Any]


class _Table:
    """Plain INSERTs for one model: every concrete column, Python-side defaults filled in, values
    adapted by the backend's own converters. Much cheaper than model instances for bulk rows."""

    def __init__(self, model: type[models.Model], *, explicit_id: bool) -> None:
        ops = connection.ops
        fields = [f for f in model._meta.concrete_fields if explicit_id or not f.primary_key]
        self.defaults: Row = {
            f.attname: None if f.primary_key or (f.has_default() and callable(f.default)) else f.get_default()
            for f in fields
        }
        self.pick = operator.itemgetter(*(f.attname for f in fields))
        self.adapters: list[tuple[int, Adapter]] = []
        for position, f in enumerate(fields):
            if isinstance(f, models.DateTimeField):
                sqlite = connection.vendor == "sqlite"
                self.adapters.append((position, _sqlite_datetime() if sqlite else ops.adapt_datetimefield_value))
            elif isinstance(f, models.DateField):
                self.adapters.append((position, ops.adapt_datefield_value))
            elif isinstance(f, models.JSONField):
                self.adapters.append((position, partial(f.get_db_prep_save, connection=connection)))
        quote = ops.quote_name
        self.sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "
                    f"VALUES ({', '.join(['%s'] * len(fields))})")

    def values(self, row: Row) -> list[Any]:
        values = list(self.pick(self.defaults | row))
        for position, adapter in self.adapters:
            if values[position] is not None:
                values[position] = adapter(values[position])
        return values

    def insert(self, rows: Sequence[Row]) -> None:
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(self.sql, [self.values(row) for row in rows])


def _sqlite_datetime() -> Adapter:
    """What the SQLite backend stores for an aware datetime (naive, in the connection's zone), minus
    the generic checks: the generator only writes aware values."""
    zone = connection.timezone

    def adapt(value: dt.datetime) -> str:
        return str(value.astimezone(zone).replace(tzinfo=None))

    return adapt


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for `count` new rows of `model`, taken inside the caller's transaction."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [table, count])
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor != "sqlite":
            raise NotImplementedError(connection.vendor)
        # SQLite: the IMMEDIATE transaction already holds the write lock, so nobody else takes these.
        cursor.execute(f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                       f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 0))", [table])
        last = int(cursor.fetchone()[0])
    return list(range(last + 1, last + count + 1))


# --- the generator --------------------------------------------------------------------------------

class _Limits:
    """Deadlines per (clock, category, mode, start day), each computed once."""

    def __init__(self) -> None:
        self._limits: dict[tuple[Clock, int, str], deadlines.Limit] = {}
        self._due: dict[tuple[Clock, int, str, dt.date], dt.datetime] = {}
        self.tz = timezone.get_default_timezone()

    def due(self, which: Clock, category: Category, mode: str, start: dt.datetime) -> dt.datetime:
        day = start.astimezone(self.tz).date()
        key = (which, category.pk, mode, day)
        found = self._due.get(key)
        if found is None:
            limit_key = (which, category.pk, mode)
            if limit_key not in self._limits:
                self._limits[limit_key] = deadlines.limit_for(which, category.ancestor_ids(), mode)
            found = self._due[key] = deadlines.end_of_day(deadlines.due_date(start, self._limits[limit_key]))
        return found


@dataclass
class _Chunk:
    cases: list[Row] = field(default_factory=list)
    enterprises: list[Row] = field(default_factory=list)
    assignments: list[Row] = field(default_factory=list)
    plan_items: list[Row] = field(default_factory=list)
    reports: list[Row] = field(default_factory=list)
    evidence: list[Row] = field(default_factory=list)  # "report" holds the report row until ids are known
    acceptances: list[Row] = field(default_factory=list)
    followups: list[Row] = field(default_factory=list)
    rechecks: list[Row] = field(default_factory=list)


@dataclass
class _Draft:
    """The case being built: its row, its rows elsewhere and what it was drawn from."""

    row: Row
    rng: random.Random
    plan: Timeline
    base: int
    topic: Topic
    category: Category
    enterprise: Enterprise
    district_index: int
    version: int = 1
    units: list[tuple[Unit, str]] = field(default_factory=list)  # (unit, role), the lead first
    completion: dt.datetime | None = None


class Generator:
    def __init__(self, district: District, seed: int, batch: str, now: dt.datetime) -> None:
        self.d = district
        self.w = district.world
        self.seed = seed
        self.batch = batch
        self.now = now
        self.moments = Moments(now, span=600)
        self.limits = _Limits()
        self.survivors: deque[tuple[Row, list[int], int]] = deque(maxlen=200)
        self.evidence_name = _shared_evidence_file()
        self.evidence_size = default_storage.size(self.evidence_name)
        self.evidence_sha = self.evidence_name.rsplit("/", 1)[-1]
        self.topic_weights = [t.weight for t in TOPICS]
        self.round_ends = {r.pk: r.ends_on for r in district.rounds}
        self.supervisor_id, self.liaison_id = self.w.supervisor.pk, self.w.liaison.pk
        self.tables = {
            "cases": _Table(Case, explicit_id=True), "enterprises": _Table(Case.enterprises.through, explicit_id=False),
            "assignments": _Table(Assignment, explicit_id=False), "plan_items": _Table(PlanItem, explicit_id=False),
            "reports": _Table(ProgressReport, explicit_id=True), "evidence": _Table(Evidence, explicit_id=False),
            "acceptances": _Table(Acceptance, explicit_id=False), "followups": _Table(FollowUp, explicit_id=False),
            "rechecks": _Table(Recheck, explicit_id=False),
        }

    def when(self, draft: _Draft, offset: float) -> dt.datetime:
        return self.moments.at(draft.base, offset)

    def at(self, draft: _Draft, mark: str) -> dt.datetime:
        return self.moments.at(draft.base, draft.plan.marks[mark])

    @staticmethod
    def text(rng: random.Random, template: str, ent: str) -> str:
        """Fill a template, drawing only the placeholders it uses."""
        values: dict[str, Any] = {"ent": ent}
        if "{park}" in template:
            values["park"] = rng.choice(PARKS)
        if "{road}" in template:
            values["road"] = rng.choice(ROADS)
        if "{m}" in template:
            values["m"] = rng.randint(2, 11)
        if "{n}" in template:
            values["n"] = rng.randint(3, 15)
        if "{amt}" in template:
            values["amt"] = rng.randint(5, 480)
        return template.format_map(values)

    def lead_and_co(self, rng: random.Random, topic: Topic, district_index: int) -> tuple[Unit, list[Unit]]:
        lead = self.d.departments[(district_index, rng.choice(topic.lead))]
        co: list[Unit] = []
        for key in topic.co:
            if rng.random() < 0.55:
                unit = (rng.choice(self.d.externals[key[4:]]) if key.startswith("ext:")
                        else self.d.departments[(district_index, key)])
                if unit.org.pk != lead.org.pk and all(unit.org.pk != c.org.pk for c in co):
                    co.append(unit)
        return lead, co

    # One case: intake, then each stage of the lifecycle it reached.

    def build(self, index: int, case_id: int, number: str, chunk: _Chunk) -> None:
        draft = self.intake(index, case_id, number, chunk)
        row, state = draft.row, draft.plan.state
        stages = [self.handover, self.approval, self.work, self.acceptance, self.followup, self.closure]
        if state not in (State.DISMISSED, State.MERGED):
            for stage in stages:
                if not stage(draft, chunk):
                    break
        row["version"] = draft.version
        chunk.cases.append(row)

    def intake(self, index: int, case_id: int, number: str, chunk: _Chunk) -> _Draft:
        rng = _case_rng(self.seed, index)
        plan = plan_timeline(rng)
        base = self.moments.base(plan.total)
        created = self.moments.at(base, plan.start)
        topic_index = rng.choices(range(len(TOPICS)), weights=self.topic_weights)[0]
        enterprise, district_index = rng.choice(self.d.enterprises)
        source: str = _weighted(rng, SOURCE_WEIGHTS)
        round_id: int | None = None
        registered_by: int | None = self.supervisor_id
        if source == Case.Source.INSPECTION:
            started = [r for r in self.d.rounds if r.starts_on <= created.date()]
            if started:
                round_id = started[-1].pk
                registered_by = self.w.inspector.pk if started[-1].group_id == self.w.inspection_group.pk else None
            else:
                source = Case.Source.SUPERVISION
        elif source == Case.Source.LIAISON:
            registered_by = self.w.liaison.pk if enterprise.pk in self.d.portfolio else None
        elif source == Case.Source.ENTERPRISE:
            registered_by = None
        ent_short = enterprise.name.removeprefix("长春").removesuffix("有限公司")
        survivor = self.survivors[rng.randrange(len(self.survivors))] if self.survivors else None
        state = plan.state
        if state == State.MERGED and survivor is None:
            state = plan.state = State.DISMISSED
        enterprise_ids = [enterprise.pk]
        topic = TOPICS[topic_index]
        title = self.text(rng, rng.choice(topic.titles), ent_short)[:200]
        if state == State.MERGED:
            assert survivor is not None
            survivor_row, enterprise_ids, topic_index = survivor
            topic, title = TOPICS[topic_index], survivor_row["title"]
            source, round_id, registered_by = Case.Source.HOTLINE, None, self.supervisor_id
        description = "".join(self.text(rng, d, ent_short) for d in rng.sample(topic.details, len(topic.details)))
        reporter = ""
        if source in (Case.Source.ENTERPRISE, Case.Source.HOTLINE, Case.Source.LIAISON):
            reporter = f"{enterprise.contact_name}（{ent_short}）"
        category = self.d.categories[topic_index]
        row: Row = {
            "id": case_id, "number": number, "title": title, "description": description, "source": source,
            "inspection_round_id": round_id, "category_id": category.pk,
            "found_on": (created - dt.timedelta(days=rng.randint(0, 6))).date(),
            "supervising_org_id": self.w.city.pk, "reporter_name": reporter,
            "reporter_contact": enterprise.contact_phone if reporter else "",
            "reporter_anonymous": source == Case.Source.ONLINE_REPORT and rng.random() < 0.5,
            "registered_by_id": registered_by, "created_at": created, "updated_at": created, "state": state.value,
        }
        chunk.enterprises.extend({"case_id": case_id, "enterprise_id": e} for e in enterprise_ids)
        draft = _Draft(row=row, rng=rng, plan=plan, base=base, topic=topic, category=category,
                       enterprise=enterprise, district_index=district_index)
        if "assessed" in plan.marks:
            draft.version += 1
            row["severity"] = _weighted(rng, [("general", 80), ("serious", 17), ("major", 3)])
            row["updated_at"] = self.at(draft, "assessed")
            if state not in (State.DISMISSED, State.MERGED):
                row["mode"] = plan.mode
        if state in (State.DISMISSED, State.MERGED):
            draft.version += 1
            row["updated_at"] = self.at(draft, "ended")
            if state == State.MERGED:
                assert survivor is not None
                row["merged_into_id"] = survivor[0]["id"]
                row["remarks"] = "同一诉求经12345热线重复反映，并案办理。"
            else:
                row["remarks"] = rng.choice(["经核实不属于受理范围。", "诉求已通过司法途径解决。", "企业已撤回诉求。"])
        else:
            self.survivors.append((row, enterprise_ids, topic_index))
        return draft

    def handover(self, draft: _Draft, chunk: _Chunk) -> bool:
        """Proposed: responsible body, lead and co-handling units."""
        if "proposed" not in draft.plan.marks:
            return False
        rng, row = draft.rng, draft.row
        body = self.d.bodies[draft.district_index]
        lead, co = self.lead_and_co(rng, draft.topic, draft.district_index)
        draft.version += 1
        row.update(
            responsible_org_id=body.pk,
            responsible_leader=f"{_person_name(rng)}（{body.short_name or body.name}分管负责同志）",
            responsible_person=f"{lead.leader or lead.handler or _person_name(rng)}（{lead.org.name}）",
            goal="；".join(rng.sample(draft.topic.measures, min(2, len(draft.topic.measures)))) + "。",
            updated_at=self.at(draft, "proposed"),
        )
        draft.units = [(lead, Assignment.Role.LEAD), *((u, Assignment.Role.CO) for u in co)]
        if "approved" not in draft.plan.marks:
            chunk.assignments.extend({"case_id": row["id"], "org_id": unit.org.pk, "role": role,
                                      "status": Assignment.Status.PROPOSED} for unit, role in draft.units)
            return False
        return True

    def approval(self, draft: _Draft, chunk: _Chunk) -> bool:
        """Approved and handed over: the deadline and, while unsigned, the sign-for clocks."""
        row, plan = draft.row, draft.plan
        units = draft.units
        draft.version += 1
        approved = self.at(draft, "approved")
        row["updated_at"] = approved
        round_end = self.round_ends.get(row["inspection_round_id"])
        if row["mode"] == Case.Mode.IMMEDIATE and round_end and round_end > approved.date():
            completion = deadlines.end_of_day(round_end)
        else:
            completion = self.limits.due(Clock.COMPLETION, draft.category, row["mode"], approved)
        row["deadline_on"] = deadlines.local_date(completion)
        draft.completion = completion
        sign_due = self.limits.due(Clock.SIGN_FOR, draft.category, row["mode"], approved)
        if plan.state == State.HANDED_OVER:
            row.update(sign_for_due_at=sign_due, completion_due_at=completion,
                       decline_due_at=self.limits.due(Clock.DECLINE_WINDOW, draft.category, row["mode"], approved))
            chunk.assignments.extend({"case_id": row["id"], "org_id": unit.org.pk, "role": role,
                                      "status": Assignment.Status.PENDING, "sign_for_due_at": sign_due}
                                     for unit, role in units)
            return False
        signed = self.at(draft, "signed")
        finished = plan.state not in (State.RECTIFYING, State.ON_LEDGER)
        last_report = self.when(draft, max(plan.reports))
        draft.version += len(units)
        for unit, role in units:
            done = finished or (role == Assignment.Role.CO and draft.rng.random() < 0.4)
            chunk.assignments.append({
                "case_id": row["id"], "org_id": unit.org.pk, "role": role,
                "status": Assignment.Status.DONE if done else Assignment.Status.SIGNED, "sign_for_due_at": sign_due,
                "signed_at": signed if role == Assignment.Role.LEAD else signed + dt.timedelta(hours=2),
                "signed_by_id": unit.leader.pk if unit.leader else None,
                "completed_at": last_report if done else None})
        return True

    def work(self, draft: _Draft, chunk: _Chunk) -> bool:
        """Signed for: measures, progress reports with evidence, ledger, escalation."""
        rng, row, plan = draft.rng, draft.row, draft.plan
        units, completion = draft.units, draft.completion
        assert completion is not None
        lead = units[0][0]
        finished = plan.state not in (State.RECTIFYING, State.ON_LEDGER)
        topic = draft.topic
        for position, measure in enumerate(rng.sample(topic.measures, min(2, len(topic.measures)))):
            chunk.plan_items.append({"case_id": row["id"], "text": measure, "owner": lead.org.name,
                                     "position": position, "due_on": row["deadline_on"], "done": finished})
        texts = topic.progress
        for k, offset in enumerate(plan.reports):
            last = k == len(plan.reports) - 1
            unit = lead if last or len(units) == 1 else rng.choice([u for u, _ in units])
            moment = self.when(draft, offset)
            text = texts[-1] if finished and last else texts[min(k, max(len(texts) - 2, 0))]
            report = {"case_id": row["id"], "org_id": unit.org.pk, "text": text, "reported_at": moment,
                      "author_id": (unit.handler or unit.leader or self.w.handler).pk}
            chunk.reports.append(report)
            if finished and last:
                chunk.evidence.append({
                    "case_id": row["id"], "report": report, "purpose": Evidence.Purpose.PROGRESS,
                    "file": self.evidence_name, "original_name": "整改佐证材料.pdf",
                    "content_type": "application/pdf", "size": self.evidence_size, "sha256": self.evidence_sha,
                    "uploaded_by_id": report["author_id"], "uploaded_at": moment})
            row["progress_summary"], row["updated_at"] = text, moment
        draft.version += len(plan.reports)
        if not finished:
            row["next_report_due_at"] = self.limits.due(Clock.PROGRESS_REPORT, draft.category, row["mode"],
                                                        row["updated_at"])
            if plan.state == State.ON_LEDGER:
                ledger = self.at(draft, "ledger")
                row["ledger_review_due_at"] = self.limits.due(Clock.LEDGER_REVIEW, draft.category, row["mode"],
                                                              ledger)
                row["updated_at"] = max(row["updated_at"], ledger)
                draft.version += 1
            else:
                row["completion_due_at"] = completion
                if completion < self.now:
                    row["escalation_level"] = _weighted(rng, [(0, 30), (1, 45), (2, 25)])
            return False
        draft.version += 1
        row["updated_at"] = self.at(draft, "submitted")
        row["progress_summary"] = f"{texts[-1]}整改任务已完成，申请验收。"
        if rng.random() < 0.4:
            row["institution_building"] = f"{topic.measures[-1]}，形成长效机制。"
        return plan.state != State.AWAITING_ACCEPTANCE

    def acceptance(self, draft: _Draft, chunk: _Chunk) -> bool:
        row = draft.row
        accepted = self.at(draft, "accepted")
        chunk.acceptances.append({
            "case_id": row["id"], "verdict": Acceptance.Verdict.PASSED,
            "checklist": {"现场核查": True, "佐证材料齐全": True, "整改措施落实到位": True, "企业确认": True},
            "opinion": "经核查，整改措施落实到位，同意通过验收。", "accepted_by_id": self.supervisor_id,
            "decided_at": accepted})
        draft.version += 1
        row["updated_at"] = accepted
        if draft.plan.state == State.AWAITING_FOLLOWUP:
            row["followup_due_at"] = self.limits.due(Clock.FOLLOWUP, draft.category, row["mode"], accepted)
            return False
        return True

    def followup(self, draft: _Draft, chunk: _Chunk) -> bool:
        rng, row = draft.rng, draft.row
        followed = self.at(draft, "followed_up")
        by_liaison = draft.enterprise.pk in self.d.portfolio and rng.random() < 0.5
        chunk.followups.append({
            "case_id": row["id"], "channel": rng.choice([FollowUp.Channel.PHONE, FollowUp.Channel.VISIT]),
            "solved": FollowUp.Solved.SOLVED, "satisfaction": _weighted(rng, [(5, 60), (4, 32), (3, 8)]),
            "note": rng.choice(["企业表示问题已解决。", "企业对办理结果表示满意。", "企业认可整改成效。"]),
            "recorded_by_id": self.liaison_id if by_liaison else self.supervisor_id, "recorded_at": followed})
        draft.version += 1
        row["updated_at"] = followed
        return draft.plan.state != State.AWAITING_CLOSURE

    def closure(self, draft: _Draft, chunk: _Chunk) -> bool:
        row = draft.row
        closed = self.at(draft, "closed")
        row.update(closed_at=closed, closed_by_id=self.supervisor_id, updated_at=closed,
                   closure_opinion="整改到位，企业满意，同意销号。")
        draft.version += 1
        if "rechecked" in draft.plan.marks:
            checked = self.at(draft, "rechecked")
            chunk.rechecks.append({"case_id": row["id"], "held": True, "note": "回头看：整改成果巩固，问题未反弹。",
                                   "checked_by_id": self.supervisor_id, "checked_at": checked})
            row["updated_at"] = checked
            draft.version += 1
        else:
            row["recheck_due_at"] = self.limits.due(Clock.RECHECK, draft.category, row["mode"], closed)
        return False

    def write(self, chunk: _Chunk) -> None:
        """Insert one chunk's rows and their audit events (inside the caller's transaction)."""
        from taizhang.audit.bulk import append_events

        for report, report_id in zip(chunk.reports, reserve_ids(ProgressReport, len(chunk.reports)), strict=True):
            report["id"] = report_id
        for evidence in chunk.evidence:
            evidence["progress_report_id"] = evidence.pop("report")["id"]
        for name in ("cases", "enterprises", "assignments", "plan_items", "reports", "evidence", "acceptances",
                     "followups", "rechecks"):
            self.tables[name].insert(getattr(chunk, name))
        append_events({
            "actor": GENERATOR, "action": GENERATED, "object_type": "case", "object_id": c["number"],
            "object_repr": c["title"], "after": {"state": c["state"], "seed": self.seed, "batch": self.batch},
        } for c in chunk.cases)


def _shared_evidence_file() -> str:
    """One small PDF shared by all generated evidence rows (content-addressed, written once)."""
    data = make_pdf(["Synthetic evidence", "Rectification completed and verified on site."])
    digest = hashlib.sha256(data).hexdigest()
    name = f"evidence/synthetic/{digest[:2]}/{digest}"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(data))
    return name


def _reserve_numbers(prefix: str, counts: Counter[int]) -> dict[int, int]:
    """Bump each (prefix, year) counter once by the number of cases it needs; return the first number."""
    first: dict[int, int] = {}
    for year, count in sorted(counts.items()):
        NumberSequence.objects.get_or_create(prefix=prefix, year=year)
        NumberSequence.objects.filter(prefix=prefix, year=year).update(last=F("last") + count)
        last = NumberSequence.objects.values_list("last", flat=True).get(prefix=prefix, year=year)
        first[year] = last - count + 1
    return first


def generate(n: int, seed: int, *, batch: str = "", now: dt.datetime | None = None,
             chunk_size: int = CHUNK_SIZE, search_index: bool = True) -> GenerateResult:
    """Bulk-create `n` synthetic cases, deterministic for `seed` (titles, states, and timelines relative
    to `now`). Numbers follow registration order; each chunk is one transaction. With
    `search_index=False` the cases are not searchable until `taizhang reindex` runs."""
    started = time.perf_counter()
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived rows, no cycles: the cyclic collector only costs time here
    try:
        return _generate(n, seed, batch=batch, now=now, chunk_size=chunk_size, started=started,
                         search_index=search_index)
    finally:
        if collecting:
            gc.enable()


def _generate(n: int, seed: int, *, batch: str, now: dt.datetime | None, chunk_size: int,
              started: float, search_index: bool) -> GenerateResult:
    now = now or clock.now()
    batch = batch or f"seed-{seed}"
    with transaction.atomic():
        district = build_district(timezone.localdate(now))
    generator = Generator(district, seed, batch, now)
    order: list[tuple[dt.datetime, int]] = []
    for index in range(n):
        plan = plan_timeline(_case_rng(seed, index))
        order.append((generator.moments.at(generator.moments.base(plan.total), plan.start), index))
    order.sort()
    prefix = district.world.city.code
    with transaction.atomic():
        next_number = _reserve_numbers(prefix, Counter(timezone.localdate(c).year for c, _ in order))
    states: Counter[str] = Counter()
    for start in range(0, n, chunk_size):
        part = order[start:start + chunk_size]
        chunk = _Chunk()
        with transaction.atomic():
            for (created, index), case_id in zip(part, reserve_ids(Case, len(part)), strict=True):
                year = timezone.localdate(created).year
                generator.build(index, case_id, f"{prefix}-{year}-{next_number[year]:04d}", chunk)
                next_number[year] += 1
            generator.write(chunk)
            if search_index:
                index_cases([c["id"] for c in chunk.cases])  # searchable as soon as the chunk commits
        states.update(c["state"] for c in chunk.cases)
    return GenerateResult(created=n, seconds=time.perf_counter() - started, states=dict(states))


def generate_once(n: int, seed: int, *, batch: str) -> GenerateResult:
    """`generate` unless a batch with this label was generated before (for the idempotent demo)."""
    if AuditEvent.objects.filter(action=GENERATED, after__batch=batch).exists():
        return GenerateResult(created=0, seconds=0.0)
    return generate(n, seed, batch=batch)
