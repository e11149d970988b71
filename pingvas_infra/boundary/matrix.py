"""Read, check and render the dev/prod boundary matrix.

docs/boundary-matrix.yaml is the one source: every dev-side actor (row) against every
prod asset (column), each cell closed (by named proofs: control files and tests),
accepted (reason, who decided) or not applicable (why). It renders to docs/boundary.md
and to the README's "The promise" section; `python -m scripts.docs` writes both from the
repository it is run in, tests/test_docs.py fails when they drift and
tests/boundary/test_matrix.py when a cell is incomplete. Nothing here reads a file the
caller does not name: the matrix and the repository it cites live outside the package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Where the matrix and its rendering live in the repository.
MATRIX_PATH = "docs/boundary-matrix.yaml"
DOC_PATH = "docs/boundary.md"
CLOSED, ACCEPTED, NOT_APPLICABLE = "closed", "accepted", "not-applicable"
STATUSES = (CLOSED, ACCEPTED, NOT_APPLICABLE)


class MatrixError(ValueError):
    """The matrix is incomplete or inconsistent; the message lists every problem."""


@dataclass(frozen=True)
class Proof:
    id: str
    evaluator: str
    files: tuple[str, ...]
    tests: tuple[str, ...]


@dataclass(frozen=True)
class Cell:
    row: str
    column: str
    status: str
    proofs: tuple[Proof, ...] = ()
    note: str = ""
    reason: str = ""
    decided_by: str = ""
    why: str = ""
    files: tuple[str, ...] = ()

    @property
    def control_files(self) -> tuple[str, ...]:
        found = [*self.files, *(f for p in self.proofs for f in p.files)]
        return tuple(dict.fromkeys(found))

    @property
    def tests(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for p in self.proofs for t in p.tests))


@dataclass(frozen=True)
class Matrix:
    date: str
    evaluators: Mapping[str, Mapping[str, str]]
    proofs: Mapping[str, Proof]
    columns: Sequence[Mapping[str, str]]
    rows: Sequence[Mapping[str, Any]]
    cells: Mapping[tuple[str, str], Cell] = field(default_factory=dict)

    def cell(self, row: str, column: str) -> Cell:
        return self.cells[(row, column)]

    def row_cells(self, row: str) -> list[Cell]:
        return [self.cells[(row, c["id"])] for c in self.columns]

    def all_tests(self) -> set[str]:
        return {t for c in self.cells.values() for t in c.tests}


def _cell(
    row: str,
    column: str,
    raw: Mapping[str, Any],
    proofs: Mapping[str, Proof],
    problems: list[str],
    *,
    root: Path,
) -> Cell:
    where = f"{row} x {column}"
    status = raw.get("status")
    if status not in STATUSES:
        problems.append(f"{where}: status {status!r}; allowed: {', '.join(STATUSES)}")
        status = NOT_APPLICABLE
    named = []
    for proof in raw.get("by", []):
        if proof not in proofs:
            problems.append(f"{where}: unknown proof {proof!r}")
        else:
            named.append(proofs[proof])
    cell = Cell(
        row=row,
        column=column,
        status=status,
        proofs=tuple(named),
        note=str(raw.get("note", "")),
        reason=" ".join(str(raw.get("reason", "")).split()),
        decided_by=str(raw.get("decided_by", "")),
        why=str(raw.get("why", "")),
        files=tuple(raw.get("files", ())),
    )
    if status == CLOSED and not (cell.tests and cell.control_files):
        problems.append(f"{where}: closed without a control file and a test")
    if status == ACCEPTED and not (cell.reason and cell.decided_by):
        problems.append(f"{where}: accepted without a reason and who decided")
    if status == NOT_APPLICABLE and not cell.why:
        problems.append(f"{where}: not applicable without why")
    for path in cell.control_files:
        if not (root / path).exists():
            problems.append(f"{where}: control file {path} does not exist")
    return cell


def load(path: Path, root: Path) -> Matrix:
    """The matrix at ``path``, checked: every row has a complete cell for every column,
    and every control file it names exists under the repository ``root``."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems: list[str] = []
    evaluators = document["evaluators"]
    proofs: dict[str, Proof] = {}
    for name, raw in document["proofs"].items():
        if raw["evaluator"] not in evaluators:
            problems.append(f"proof {name}: unknown evaluator {raw['evaluator']!r}")
        if not raw.get("files") or not raw.get("tests"):
            problems.append(f"proof {name}: names no file or no test")
        proofs[name] = Proof(
            name, raw["evaluator"], tuple(raw.get("files", ())), tuple(raw.get("tests", ()))
        )
    columns = document["columns"]
    column_ids = [c["id"] for c in columns]
    if len(set(column_ids)) != len(column_ids):
        problems.append("a column id is used twice")
    cells: dict[tuple[str, str], Cell] = {}
    row_ids = [r["id"] for r in document["rows"]]
    if len(set(row_ids)) != len(row_ids):
        problems.append("a row id is used twice")
    for row in document["rows"]:
        listed = row.get("cells", {}) or {}
        problems.extend(
            f"{row['id']}: cell for unknown column {c!r}" for c in listed if c not in column_ids
        )
        for column in column_ids:
            raw = listed.get(column, row.get("default"))
            if raw is None:
                problems.append(f"{row['id']} x {column}: blank cell")
                continue
            cells[(row["id"], column)] = _cell(row["id"], column, raw, proofs, problems, root=root)
    if problems:
        raise MatrixError("boundary matrix: " + "; ".join(problems))
    return Matrix(str(document["date"]), evaluators, proofs, columns, document["rows"], cells)


# --- rendering -------------------------------------------------------------------------------

_SYMBOL = {CLOSED: "closed", ACCEPTED: "**accepted**", NOT_APPLICABLE: "n/a"}


def _escape(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _detail(cell: Cell) -> str:
    if cell.status == CLOSED:
        files = ", ".join(f"`{f}`" for f in cell.control_files)
        proofs = ", ".join(f"[{p.id}](#proof-{p.id})" for p in cell.proofs)
        note = f"{cell.note}. " if cell.note else ""
        return _escape(f"{note}{files}; proven by {proofs}")
    if cell.status == ACCEPTED:
        reason = cell.reason.rstrip()
        if not reason.endswith((".", ")")):
            reason += "."
        return _escape(f"{reason} Decided by: {cell.decided_by}.")
    return _escape(cell.why)


def _status(cell: Cell) -> str:
    return _SYMBOL[cell.status]


def _counts(matrix: Matrix, row: str) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for cell in matrix.row_cells(row):
        counts[cell.status] += 1
    return counts


def render_doc(matrix: Matrix) -> str:
    columns = {c["id"]: c for c in matrix.columns}
    lines = [
        "# The dev/prod boundary",
        "",
        f"<!-- Generated from {MATRIX_PATH} ({matrix.date}) by "
        "`python -m scripts.docs`; edit the YAML, not this file. -->",
        "",
        "Dev and prod share one cluster, one Aurora cluster, one cache, buckets and a file",
        "system. This is every actor on the dev side against every prod asset. Each cell is",
        "**closed** (the control, in the files named, and the proofs that test it),",
        "**accepted** (a risk kept on purpose, why, and who decided) or **n/a** (the actor",
        "has no path to the asset at all). `tests/boundary/test_matrix.py` fails on a blank",
        "cell, a closed cell without a control file or a test that pytest collects, and an",
        "accepted cell without a reason or a decider; `tests/test_docs.py` on this file",
        "drifting from the YAML.",
        "",
        "## At a glance",
        "",
        "| actor | closed | accepted | n/a | accepted risks |",
        "|---|---:|---:|---:|---|",
    ]
    for row in matrix.rows:
        counts = _counts(matrix, row["id"])
        accepted = [
            columns[c.column]["title"] for c in matrix.row_cells(row["id"]) if c.status == ACCEPTED
        ]
        lines.append(
            f"| [{row['title']}](#{_anchor(row['title'])}) | {counts[CLOSED]} | "
            f"{counts[ACCEPTED]} | {counts[NOT_APPLICABLE]} | {'; '.join(accepted) or 'none'} |"
        )
    lines += ["", "Columns (prod assets):", ""]
    lines += [
        f"- **{c['title']}**" + (f": {c['scope']}" if c.get("scope") else "")
        for c in matrix.columns
    ]
    for row in matrix.rows:
        lines += [
            "",
            f"## {row['title']}",
            "",
            "| prod asset | status | control and proof, or reason |",
            "|---|---|---|",
        ]
        for cell in matrix.row_cells(row["id"]):
            lines.append(f"| {columns[cell.column]['title']} | {_status(cell)} | {_detail(cell)} |")
    lines += ["", "## Proofs", ""]
    for proof in matrix.proofs.values():
        evaluator = matrix.evaluators[proof.evaluator]["name"]
        lines += [
            f'<a id="proof-{proof.id}"></a>**{proof.id}** ({evaluator}): '
            + ", ".join(f"`{f}`" for f in proof.files),
            "",
            *(f"- `{t}`" for t in proof.tests),
            "",
        ]
    lines += [
        "## Evaluators and what they leave out",
        "",
        "| evaluator | what the real system does beyond it |",
        "|---|---|",
    ]
    for described in matrix.evaluators.values():
        lines.append(f"| {_escape(described['name'])} | {_escape(described['lacks'])} |")
    return "\n".join(lines) + "\n"


def _anchor(title: str) -> str:
    """GitHub's anchor of a plain-text heading: lower case, every character but letters,
    digits, `_`, `-` and spaces dropped, spaces turned into `-`."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def render_readme_section(matrix: Matrix) -> str:
    """The README's summary: per actor, the prod assets closed and the risks accepted."""
    columns = {c["id"]: c for c in matrix.columns}
    lines = [
        "| dev-side actor | prod assets closed | accepted risks (reason in docs/boundary.md) |",
        "|---|---:|---|",
    ]
    for row in matrix.rows:
        cells = matrix.row_cells(row["id"])
        applicable = [c for c in cells if c.status != NOT_APPLICABLE]
        closed = [c for c in applicable if c.status == CLOSED]
        accepted = [columns[c.column]["title"] for c in cells if c.status == ACCEPTED]
        lines.append(
            f"| {row['title']} | {len(closed)} of {len(applicable)} | "
            f"{'; '.join(accepted) or 'none'} |"
        )
    return "\n".join(lines)
