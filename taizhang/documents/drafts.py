"""What issuing a document needs, whoever builds it: the case documents here, recommendations and bulletins
in their own apps (`services.issue_document(Draft(...), actor=...)`)."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from taizhang.cases.models import Case
from taizhang.documents.official import OfficialDocument
from taizhang.orgs.models import Organisation


@dataclass(frozen=True)
class Draft:
    """Everything needed to issue one document: what it is for, who issues it, and how to compose it once
    its number is known. `number` is set when the number was drawn elsewhere (a 督办单's own)."""

    kind: str
    subject_type: str
    subject_id: str
    issuer: Organisation
    case: Case | None
    issued_on: dt.date
    compose: Callable[[str], OfficialDocument]
    number: str = ""
