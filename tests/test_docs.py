"""The documents: every generated part is what `python -m scripts.docs` writes from the
code, the matrix and a plan of the default stack, and every link resolves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pingvas_infra.boundary.matrix import DOC_PATH, MATRIX_PATH
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.plan_run import load_config
from scripts import docs
from tests.support.markdown import broken_links, github_anchor, links
from tests.support.project import PROJECT_DIR

LINKED_DOCUMENTS = sorted(
    [
        PROJECT_DIR / "README.md",
        PROJECT_DIR / "ARCHITECTURE.md",
        *(PROJECT_DIR / "docs").glob("*.md"),
    ]
)


@pytest.fixture(scope="module")
def region(stack_file: StackFile) -> str:
    return load_config(stack_file).region


def test_every_generated_part_is_what_the_command_writes(graph: PlanResult, region: str) -> None:
    expected = docs.documents(PROJECT_DIR, docs.load_matrix(PROJECT_DIR), graph, region)
    assert sorted(expected) == sorted(
        PROJECT_DIR / name
        for name in ("README.md", DOC_PATH, docs.ARCHITECTURE_PICTURE, docs.COST_PICTURE)
    )
    assert docs.drifted(expected) == [], "run python -m scripts.docs"


def test_the_readme_holds_every_block_and_the_plans_figures(graph: PlanResult, region: str) -> None:
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    blocks = docs.readme_blocks(docs.load_matrix(PROJECT_DIR), graph, region)
    assert {"config", "boundary", "controls", "plan-resources", "plan-cost"} <= set(blocks)
    for name in blocks:
        assert docs.blocks_of(readme, name), name
    assert docs.blocks_of(readme, "plan-resources") == [str(len(graph.resources))] * 2
    assert "unpriced: none" in blocks["plan-cost"]


def test_splice_replaces_every_block_of_the_name_and_keeps_the_markers() -> None:
    text = "a <!-- n:begin (why) -->old<!-- n:end --> b <!-- n:begin -->old<!-- n:end -->"
    assert docs.splice(text, "n", "new") == (
        "a <!-- n:begin (why) -->new<!-- n:end --> b <!-- n:begin -->new<!-- n:end -->"
    )
    assert docs.blocks_of(text, "n") == ["old", "old"]
    with pytest.raises(docs.BlockNotFound):
        docs.splice(text, "other", "new")


def test_a_stale_block_is_found_and_rewritten(
    tmp_path: Path, graph: PlanResult, region: str
) -> None:
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(
        docs.splice(readme, "plan-resources", "297"), encoding="utf-8"
    )
    for name in (DOC_PATH, docs.ARCHITECTURE_PICTURE, docs.COST_PICTURE):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    expected = docs.documents(tmp_path, docs.load_matrix(PROJECT_DIR), graph, region)
    assert docs.drifted(expected) == [tmp_path / "README.md"]
    (tmp_path / "README.md").write_bytes(expected[tmp_path / "README.md"])
    assert docs.drifted(expected) == []
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == readme


def test_the_command_checks_without_writing_and_refuses_a_broken_matrix(
    tmp_path: Path, graph: PlanResult, region: str
) -> None:
    def plan(_: Path) -> tuple[PlanResult, str]:
        return graph, region

    assert docs.main(["--check"], root=PROJECT_DIR, plan=plan) == 0
    (tmp_path / "docs").mkdir()
    matrix = (PROJECT_DIR / MATRIX_PATH).read_text(encoding="utf-8")
    (tmp_path / MATRIX_PATH).write_text(matrix.replace("status: closed", "status: shut", 1))
    assert docs.main(["--check"], root=tmp_path, plan=plan) == 2


# --- links --------------------------------------------------------------------------------


def test_github_anchors_keep_underscores_and_drop_punctuation() -> None:
    assert github_anchor("dev_user in PostgreSQL") == "dev_user-in-postgresql"
    assert github_anchor("a dev pod that sets spec.nodeName") == "a-dev-pod-that-sets-specnodename"
    assert github_anchor("The promise: `dev` never touches prod") == (
        "the-promise-dev-never-touches-prod"
    )
    assert github_anchor("Cost (per [month](x.md))") == "cost-per-month"


@pytest.mark.parametrize("path", LINKED_DOCUMENTS, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_every_link_of_the_document_resolves(path: Path) -> None:
    assert links(path) or path.name != "boundary.md"
    assert broken_links(path) == []


def test_the_link_check_finds_a_dropped_underscore_and_a_missing_file(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n\n## dev_user in PostgreSQL\n\n## Top\n\n"
        "[ok](#dev_user-in-postgresql) [ok](#top-1) [ok](page.md#top)\n"
        "[bad](#devuser-in-postgresql) [bad](missing.md) `[code](#not-a-link)`\n"
        "```\n[fenced](#not-a-link-either)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page) == [
        "#devuser-in-postgresql: no such heading in page.md",
        "missing.md: no such file",
    ]
