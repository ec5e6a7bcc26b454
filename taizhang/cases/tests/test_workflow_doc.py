from pathlib import Path

from django.conf import settings

from taizhang.cases import workflow


def test_committed_workflow_doc_matches_the_table():
    committed = (Path(settings.BASE_DIR) / "docs" / "workflow.md").read_text(encoding="utf-8")
    assert committed == workflow.markdown(), "run `taizhang workflow-doc` and commit docs/workflow.md"


def test_every_state_is_reachable_or_initial():
    reached = {target for t in workflow.TRANSITIONS for target in t.targets.values()}
    assert set(workflow.State) - reached == {workflow.State.REGISTERED}


def test_terminal_states_have_no_way_out():
    for state in workflow.TERMINAL_STATES:
        assert workflow.actions_from(state) == []
