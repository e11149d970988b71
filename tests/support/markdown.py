"""Markdown as GitHub renders it: the anchors of a document's headings, its links and
the ones that lead nowhere, and its sections by heading (tests/test_docs.py checks every
document's links; the runbook tests check each alert's section)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

# [text](target), not an image; the target up to the first space or closing parenthesis.
_LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_CODE = re.compile(r"`[^`]*`")
_EXPLICIT_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its rendered text (code marks, link targets and
    emphasis dropped) in lower case, every character but letters, digits, `_`, `-` and
    spaces removed, each space turned into `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def _prose_lines(path: Path) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def anchors(path: Path) -> set[str]:
    """Every anchor of a Markdown file: its headings' (a repeated one gets -1, -2, ...) and
    the explicit <a id> ones."""
    found: set[str] = set()
    seen: Counter[str] = Counter()
    for line in _prose_lines(path):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            anchor = github_anchor(heading.group(1))
            found.add(f"{anchor}-{seen[anchor]}" if seen[anchor] else anchor)
            seen[anchor] += 1
        found.update(_EXPLICIT_ANCHOR.findall(line))
    return found


def links(path: Path) -> list[str]:
    return [
        target
        for line in _prose_lines(path)
        for target in _LINK.findall(_INLINE_CODE.sub("", line))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in links(path):
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            broken.append(f"{target}: no such heading in {linked.name}")
    return broken


def sections(path: Path) -> dict[str, tuple[int, str]]:
    """Every heading's text -> its level and its section: the text up to the next heading
    of the same or a higher level (code blocks included, headings inside them not)."""
    found: dict[str, tuple[int, str]] = {}
    open_sections: list[tuple[str, int, list[str]]] = []
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if heading:
            level = len(heading.group(1))
            while open_sections and open_sections[-1][1] >= level:
                title, closed_level, body = open_sections.pop()
                found[title] = (closed_level, "\n".join(body))
            open_sections.append((heading.group(2), level, []))
        for _, _, body in open_sections:
            body.append(line)
    for title, level, body in open_sections:
        found[title] = (level, "\n".join(body))
    return found
