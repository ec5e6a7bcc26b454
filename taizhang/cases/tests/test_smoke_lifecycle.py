import datetime as dt

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from taizhang.audit.models import AuditEvent
from taizhang.cases import services
from taizhang.cases.workflow import State
from taizhang.testing import matrix

PDF = b"%PDF-1.4\n%test\n"


def test_seed_story_walks_the_whole_lifecycle(world):
    w = world
    with time_machine.travel(dt.datetime(2022, 11, 21, 10, 0, tzinfo=dt.UTC), tick=False):
        case = services.register_case(actor=w.inspector, source="inspection", title="供电频繁闪断",
                                      description="企业反映无预告停电闪断，造成在制品报废。",
                                      inspection_round=w.round, category=w.category, enterprises=[w.enterprise])
        assert case.number == "CC-2022-0001"
        case = services.assess_case(case, actor=w.inspector, note="组务会研判")
        case = services.propose_handover(case, actor=w.inspector, responsible_org=w.district,
                                         lead_org=w.lead_unit, co_orgs=[w.power_company], mode="immediate")
        case = services.approve_handover(case, actor=w.approver)
        assert case.state == State.HANDED_OVER
        assert case.deadline_on == dt.date(2022, 12, 30)
        case = services.sign_for_case(case, actor=w.unit_leader)
        case = services.sign_for_assignment(case, actor=w.co_leader)
        case = services.report_progress(case, actor=w.handler, text="新建外部线路",
                                        evidence=[SimpleUploadedFile("线路.pdf", PDF)])
        case = services.complete_assignment(case, actor=w.co_leader)
        case = services.submit_for_acceptance(case, actor=w.unit_leader, summary="已完成线路切换")
        case = services.accept_case(case, actor=w.supervisor, checklist=matrix.passed_checklist(case),
                                    opinion="验收通过")
        case = services.record_followup(case, actor=w.supervisor, solved="solved", satisfaction=5, channel="visit")
        case = services.close_case(case, actor=w.supervisor, opinion="同意销号")
        case = services.record_recheck(case, actor=w.supervisor, held=True)
    assert case.state == State.CLOSED
    assert AuditEvent.objects.filter(object_id=case.number).count() == 13
