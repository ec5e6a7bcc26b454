"""The supervision part of the demo story, replayed after the seed case."""

import pytest

from taizhang.cases.demo import configure_checklists, replay_story
from taizhang.cases.selectors import case_timeline
from taizhang.supervision.demo import DECISION, RECOMMENDATION_TITLE, replay_supervision
from taizhang.supervision.models import Meeting, Recommendation
from taizhang.testing.personas import build_world

pytestmark = pytest.mark.django_db


def test_the_story_gets_a_meeting_and_an_evaluated_recommendation_once():
    w = build_world()
    configure_checklists(w)
    story = replay_story(w)
    replay_supervision(w, story)
    replay_supervision(w, story)
    rec = Recommendation.objects.get(title=RECOMMENDATION_TITLE)
    assert (rec.state, rec.outcome, rec.addressed_org) == ("evaluated", "adopted", w.district)
    assert rec.number == "CC建〔2023〕1号"
    assert rec.replied_at is not None
    assert rec.reply_due_at is not None
    assert rec.replied_at < rec.reply_due_at
    assert Meeting.objects.get().decisions.get().done_at is not None
    assert any(DECISION in e.sentence for e in case_timeline(w.supervisor, story))
