"""The documents of a case: issued once on first download with a gap-free number, the same file every
time after; out of scope or not offered is 404 in the workspace and the API, and leaves nothing behind."""

import datetime as dt
import hashlib
import re
from urllib.parse import unquote

import pytest
import time_machine
from django.db import transaction

from taizhang.accounts.models import Membership
from taizhang.accounts.roles import Role
from taizhang.audit.models import AuditEvent
from taizhang.cases.models import Case
from taizhang.cases.synthetic import generate
from taizhang.cases.workflow import State
from taizhang.core.errors import ValidationFailed
from taizhang.core.models import NumberSequence
from taizhang.documents import selectors, services
from taizhang.documents.drafts import Draft
from taizhang.documents.models import IssuedDocument
from taizhang.documents.numbering import next_document_number
from taizhang.documents.official import Table
from taizhang.documents.tests.pdf_tools import pdf_text, save_first_page
from taizhang.orgs.models import Organisation
from taizhang.sla.models import SupervisionOrder
from taizhang.sla.services import escalate_case
from taizhang.sla.tests.helpers import at
from taizhang.testing.matrix import Cast, Drive, drive

pytestmark = pytest.mark.django_db
HANDOVER = at(dt.date(2026, 3, 2))


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def case(world):
    with time_machine.travel(HANDOVER, tick=False):
        return drive(Cast.own(world), State.RECTIFYING)


@pytest.fixture
def immediate_case(world):
    with time_machine.travel(HANDOVER, tick=False):
        return drive(Cast.own(world), State.HANDED_OVER, shape=Drive(mode="immediate"), title="厂区道路积水")


def web_url(case, kind, fmt):
    return f"/cases/{case.number}/documents/{kind}.{fmt}"


def test_the_handover_letter_is_issued_once_and_downloads_the_same_every_time(world, case, client, artifacts):
    agreed = case.deadline_on
    Case.objects.filter(pk=case.pk).update(deadline_on=agreed + dt.timedelta(days=30))  # extended since
    client.force_login(world.supervisor)
    first = client.get(web_url(case, "transfer_letter", "pdf"))
    assert first.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert first["X-Content-Type-Options"] == "nosniff"
    disposition = first["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="{case.number}-transfer_letter.pdf"; filename*=UTF-8\'\'')
    issued = IssuedDocument.objects.get()
    assert unquote(disposition.split("''", 1)[1]) == f"{issued.number} {issued.title}.pdf"
    assert issued.number == "CC移〔2026〕1号"
    assert issued.issued_on == dt.date(2026, 3, 2)
    assert issued.created_by == world.supervisor
    assert hashlib.sha256(first.content).hexdigest() == issued.pdf_sha256

    text = flat(pdf_text(first.content))
    for part in ["长春市纪委监委", "CC移〔2026〕1号", f"关于移交“{case.title}”问题的函", "净月区党工委：",
                 "企业反映无预告停电闪断，造成在制品报废。", "牵头单位：区建设发展局", "配合单位：国网长春供电公司",
                 "二〇二六年三月二日"]:
        assert part in text, part
    assert f"于{agreed.year}年{agreed.month}月{agreed.day}日前完成整改" in text  # the deadline of the handover
    assert "吴总" not in text  # no document names the reporter
    save_first_page(first.content, artifacts / "transfer-letter.png")

    client.force_login(world.unit_leader)  # the addressed side downloads the same document, in Word too
    again = client.get(web_url(case, "transfer_letter", "pdf"))
    word = client.get(web_url(case, "transfer_letter", "docx"))
    assert again.content == first.content
    assert word.status_code == 200
    assert hashlib.sha256(word.content).hexdigest() == issued.docx_sha256
    assert IssuedDocument.objects.count() == 1
    assert AuditEvent.objects.filter(action="document.issued").count() == 1
    assert NumberSequence.objects.get(prefix="CC移").last == 1


def test_an_immediate_case_has_its_notice_and_a_deadline_case_has_none(world, immediate_case, case, client,
                                                                        artifacts):
    client.force_login(world.supervisor)
    response = client.get(web_url(immediate_case, "immediate_notice", "pdf"))
    assert response.status_code == 200
    text = flat(pdf_text(response.content))
    for part in ["长春市纪委监委", "CC改〔2026〕1号", "立行立改通知书", "厂区道路积水", "属于立行立改事项"]:
        assert part in text, part
    save_first_page(response.content, artifacts / "immediate-notice.png")
    assert client.get(web_url(case, "immediate_notice", "pdf")).status_code == 404
    assert IssuedDocument.objects.count() == 1


def test_a_supervision_order_downloads_through_the_api_under_its_own_number(world, case, api_for, artifacts):
    with time_machine.travel(at(dt.date(2026, 3, 10), 10), tick=False):
        escalate_case(case, actor=world.supervisor, level=3, reason="久拖不决，企业多次反映")
    order = SupervisionOrder.objects.get()
    api = api_for(world.supervisor)
    listing = api.get(f"/api/v1/cases/{case.number}/documents/")
    assert listing.status_code == 200
    kinds = {item["kind"]: item for item in listing.json()}
    assert set(kinds) == {"transfer_letter", "supervision_order"}
    assert kinds["supervision_order"]["name"] == order.number
    assert kinds["supervision_order"]["number"] is None
    link = kinds["supervision_order"]["links"]["pdf"]
    assert link == f"/api/v1/cases/{case.number}/documents/supervision-orders/{order.pk}/pdf"

    response = api.get(link, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = flat(pdf_text(response.content))
    for part in [order.number, "督办通知书", "区建设发展局：", "久拖不决，企业多次反映", "二〇二六年三月十日"]:
        assert part in text, part
    save_first_page(response.content, artifacts / "supervision-order.png")
    issued = IssuedDocument.objects.get()
    assert issued.number == order.number == "CC督〔2026〕1号"
    assert api.get(f"/api/v1/cases/{case.number}/documents/").json()[1]["number"] == order.number
    word = api.get(f"/api/v1/cases/{case.number}/documents/supervision-orders/{order.pk}/docx")
    assert word.status_code == 200
    assert word["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")


def _footprint():
    return (IssuedDocument.objects.count(), AuditEvent.objects.filter(action="document.issued").count(),
            list(NumberSequence.objects.filter(prefix__endswith="移").values_list("last", flat=True)))


@pytest.mark.parametrize("who", ["outsider", "enterprise_user", "admin", "sibling_handler"])
def test_out_of_scope_is_404_everywhere_and_changes_nothing(world, case, client, api_for, who):
    user = getattr(world, who)
    before = _footprint()
    client.force_login(user)
    assert client.get(web_url(case, "transfer_letter", "pdf")).status_code == 404
    api = api_for(user)
    assert api.get(f"/api/v1/cases/{case.number}/documents/transfer_letter/pdf").status_code == 404
    assert api.get(f"/api/v1/cases/{case.number}/documents/").status_code == 404
    assert _footprint() == before


@pytest.mark.parametrize("path", [
    "documents/transfer_letter/exe", "documents/bulletin/pdf", "documents/supervision-orders/999/pdf",
    "documents/supervision-orders/abc/pdf", "documents/supervision-orders/0/docx",
])
def test_malformed_or_unknown_documents_are_404(world, case, api_for, path):
    response = api_for(world.supervisor).get(f"/api/v1/cases/{case.number}/{path}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert IssuedDocument.objects.count() == 0


def test_a_case_not_yet_handed_over_offers_no_documents(world, client):
    assessing = drive(Cast.own(world), State.ASSESSING)
    client.force_login(world.supervisor)
    assert client.get(web_url(assessing, "transfer_letter", "docx")).status_code == 404
    assert client.get(f"/cases/{assessing.number}/documents/transfer_letter.txt").status_code == 404


def test_numbers_are_gap_free_per_issuer_kind_and_year_and_a_rollback_returns_its_number(world):
    with transaction.atomic():
        assert next_document_number(world.city, "transfer_letter", 2026) == "CC移〔2026〕1号"
    def failed_issue():
        with transaction.atomic():
            next_document_number(world.city, "transfer_letter", 2026)
            raise RuntimeError("the issue failed")

    with pytest.raises(RuntimeError):
        failed_issue()
    assert next_document_number(world.city, "transfer_letter", 2026) == "CC移〔2026〕2号"
    assert next_document_number(world.city, "immediate_notice", 2026) == "CC改〔2026〕1号"
    assert next_document_number(world.city, "transfer_letter", 2027) == "CC移〔2027〕1号"
    assert next_document_number(world.other_city, "transfer_letter", 2026) == "WS移〔2026〕1号"


def test_a_failed_issue_leaves_no_number_no_document_and_no_event(world, case):
    def broken(number):
        raise RuntimeError("composition failed")

    draft = Draft(kind="transfer_letter", subject_type="handover", subject_id="x", issuer=world.city, case=case,
                  issued_on=dt.date(2026, 3, 2), compose=broken)
    before = _footprint()
    with pytest.raises(RuntimeError):
        services.issue_document(draft, actor=world.supervisor)
    assert _footprint() == before


def test_an_issuer_without_a_number_prefix_is_refused(world, case):
    nameless = Organisation.objects.create(name="某临时机构", kind=Organisation.Kind.SUPERVISORY)
    draft = Draft(kind="transfer_letter", subject_type="handover", subject_id="y", issuer=nameless, case=case,
                  issued_on=dt.date(2026, 3, 2), compose=lambda number: pytest.fail("composed"))
    with pytest.raises(ValidationFailed) as raised:
        services.issue_document(draft, actor=world.supervisor)
    assert raised.value.code == "documents.issuer_without_prefix"
    assert IssuedDocument.objects.count() == 0


def test_the_case_page_and_the_supervision_panel_link_the_documents(world, case, client):
    with time_machine.travel(at(dt.date(2026, 3, 10), 10), tick=False):
        escalate_case(case, actor=world.supervisor, level=3, reason="久拖不决")
    order = SupervisionOrder.objects.get()
    client.force_login(world.supervisor)
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert 'id="official-documents"' in page
    assert web_url(case, "transfer_letter", "pdf") in page
    assert web_url(case, "transfer_letter", "docx") in page
    order_pdf = f"/cases/{case.number}/documents/supervision-orders/{order.pk}.pdf"
    assert order_pdf in page
    assert order_pdf in client.get(f"/cases/{case.number}/supervision/").content.decode()

    client.force_login(world.enterprise_user)  # sees the case and its supervision panel, not the documents
    assert 'id="official-documents"' not in client.get(f"/cases/{case.number}/").content.decode()
    assert order_pdf not in client.get(f"/cases/{case.number}/supervision/").content.decode()
    assert client.get(order_pdf).status_code == 404


def test_a_case_generated_in_bulk_offers_its_handover_letter():
    generate(12, seed=3)
    case = Case.objects.filter(state=State.RECTIFYING).select_related("supervising_org").first()
    assert case is not None
    seat = Membership.objects.filter(org=case.supervising_org, role=Role.SUPERVISOR).select_related("user").first()
    assert seat is not None
    offered = selectors.case_documents(seat.user, case.number)
    assert [d.kind for d in offered][:1] == ["transfer_letter"]
    draft = selectors.case_document_draft(seat.user, case.number, "transfer_letter")
    doc = draft.compose("CC移〔2026〕9号")
    assert case.responsible_org is not None
    assert doc.addressee == case.responsible_org.name
    assert case.number in [row[0] for block in doc.body if isinstance(block, Table) for row in block.rows]
