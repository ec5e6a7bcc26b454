"""A small world with one person per persona of DESIGN.md §8, built once and shared by tests.

长春市纪委监委 (supervisory, prefix CC)
├── 市委巡察办 (supervisory)
│   └── 市委第二巡察组 (inspection group)
└── (supervises) 净月区党工委 (party committee)
    ├── 区建设发展局 (department, lead unit)        ← unit leader + handler
    │   └── 建设发展局工程科 (department, child)
    └── 区营商环境建设局 (department, sibling)       ← sibling handler
国网长春供电公司 (external, co-handling unit)
长春某精密零部件有限公司 (enterprise)               ← enterprise user
外市纪委监委 (supervisory, prefix WS)              ← outsider supervisor
"""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import make_password

from taizhang.accounts.models import Membership, User
from taizhang.accounts.roles import Role
from taizhang.cases.models import Category
from taizhang.core.credit_code import make_credit_code
from taizhang.orgs.models import Enterprise, InspectionRound, LiaisonAssignment, Organisation

PASSWORD = "taizhang-demo"  # demo and test accounts only


@dataclass
class World:
    city: Organisation
    inspection_office: Organisation
    inspection_group: Organisation
    district: Organisation
    lead_unit: Organisation
    lead_child: Organisation
    sibling_unit: Organisation
    power_company: Organisation
    enterprise_org: Organisation
    enterprise: Enterprise
    other_city: Organisation
    round: InspectionRound
    category: Category
    supervisor: User
    approver: User
    inspector: User
    unit_leader: User
    handler: User
    co_leader: User
    sibling_handler: User
    liaison: User
    enterprise_user: User
    viewer: User
    admin: User
    auditor: User
    outsider: User

    def personas(self) -> dict[str, User]:
        names = ["supervisor", "approver", "inspector", "unit_leader", "handler", "co_leader", "sibling_handler",
                 "liaison", "enterprise_user", "viewer", "admin", "auditor", "outsider"]
        return {name: getattr(self, name) for name in names}


def org(name: str, kind: str, parent: Organisation | None = None, code: str = "", short: str = "") -> Organisation:
    found, _created = Organisation.objects.get_or_create(
        name=name, defaults={"kind": kind, "parent": parent, "code": code, "short_name": short})
    return found


@lru_cache(maxsize=4)
def _password_hash(hasher: str) -> str:
    # One hash of the public demo password for all personas: the slow hasher runs once, not per login.
    return make_password(PASSWORD)


def person(username: str, display: str, *seats: tuple[Organisation, Role], staff: bool = False) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create(username=username, password=_password_hash(settings.PASSWORD_HASHERS[0]),
                                   display_name=display, is_staff=staff)
    for where, role in seats:
        Membership.objects.get_or_create(user=user, org=where, role=role)
    return user


ENTERPRISE_CODE = make_credit_code("91", "220101", "MA17Q8X3")


def build_world() -> World:
    city = org("长春市纪委监委", Organisation.Kind.SUPERVISORY, code="CC", short="市纪委监委")
    inspection_office = org("市委巡察办", Organisation.Kind.SUPERVISORY, city)
    group = org("市委第二巡察组", Organisation.Kind.INSPECTION_GROUP, inspection_office)
    district = org("净月区党工委", Organisation.Kind.PARTY_COMMITTEE, short="净月区党工委")
    lead = org("区建设发展局", Organisation.Kind.DEPARTMENT, district)
    lead_child = org("建设发展局工程科", Organisation.Kind.DEPARTMENT, lead)
    sibling = org("区营商环境建设局", Organisation.Kind.DEPARTMENT, district)
    power = org("国网长春供电公司", Organisation.Kind.EXTERNAL)
    enterprise_org = org("长春精工零部件有限公司", Organisation.Kind.ENTERPRISE, district)
    other_city = org("外市纪委监委", Organisation.Kind.SUPERVISORY, code="WS")
    enterprise, _ = Enterprise.objects.get_or_create(
        org=enterprise_org,
        defaults={"name": enterprise_org.name, "credit_code": ENTERPRISE_CODE, "industry": "精密零部件制造",
                  "scale": Enterprise.Scale.SMALL},
    )
    rnd, _ = InspectionRound.objects.get_or_create(
        name="市委第二巡察组机动巡察净月高新区", defaults={
            "kind": InspectionRound.Kind.MOBILE, "group": group,
            "starts_on": dt.date(2022, 11, 7), "ends_on": dt.date(2022, 12, 30)})
    rnd.targets.add(district)
    business, _ = Category.objects.get_or_create(name="营商环境", parent=None)
    factors, _ = Category.objects.get_or_create(name="要素保障", parent=business)
    power_cat, _ = Category.objects.get_or_create(name="供电", parent=factors)
    liaison = person("liaison", "赵专员", (district, Role.LIAISON))
    LiaisonAssignment.objects.get_or_create(liaison=liaison, enterprise=enterprise)
    return World(
        city=city, inspection_office=inspection_office, inspection_group=group, district=district,
        lead_unit=lead, lead_child=lead_child, sibling_unit=sibling, power_company=power,
        enterprise_org=enterprise_org, enterprise=enterprise, other_city=other_city, round=rnd,
        category=power_cat,
        supervisor=person("supervisor", "王监督", (city, Role.SUPERVISOR), (inspection_office, Role.SUPERVISOR)),
        approver=person("approver", "李书记", (city, Role.APPROVER)),
        inspector=person("inspector", "陈巡察", (group, Role.INSPECTOR)),
        unit_leader=person("unit_leader", "刘局长", (lead, Role.UNIT_LEADER)),
        handler=person("handler", "张三", (lead, Role.HANDLER)),
        co_leader=person("co_leader", "孙经理", (power, Role.UNIT_LEADER), (power, Role.HANDLER)),
        sibling_handler=person("sibling_handler", "周办事", (sibling, Role.HANDLER)),
        liaison=liaison,
        enterprise_user=person("enterprise", "吴总", (enterprise_org, Role.ENTERPRISE)),
        viewer=person("viewer", "郑主任", (city, Role.VIEWER)),
        admin=person("admin", "系统管理员", (city, Role.ADMIN), staff=True),
        auditor=person("auditor", "审计员", (city, Role.AUDITOR)),
        outsider=person("outsider", "外市监督员", (other_city, Role.SUPERVISOR)),
    )
