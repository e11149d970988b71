"""Every alert the stack defines links to its runbook and says what to do first.

The runbooks are one document in the repository, `docs/runbooks.md`, with a heading per
alert named exactly as the alert. Each alerting rule gets:

- `description`: one line on the first action (written beside the rule);
- `runbook`: the section's path in the repository (`docs/runbooks.md#<anchor>`), always;
- `runbook_url`: the same section as an absolute URL, when
  `operations.monitoring.runbookBaseUrl` says where the repository's files are read
  (`<runbookBaseUrl>/docs/runbooks.md#<anchor>`). Where the repository is published is
  the team's choice, so nothing is invented while it is unset.

kube-prometheus-stack's own rules keep the chart's `runbook_url`s to the upstream
runbooks; `docs/runbooks.md` points there.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

DOCUMENT = "docs/runbooks.md"
DESCRIPTION = "description"
RUNBOOK = "runbook"
RUNBOOK_URL = "runbook_url"


class MissingFirstAction(ValueError):
    """An alerting rule without its `description`: the on-call would get no first step."""


def anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading of plain text: lower case, every
    character but letters, digits, `_`, `-` and spaces dropped, spaces turned into `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def runbook_path(alert: str) -> str:
    """The alert's section of the runbooks, relative to the repository's root."""
    return f"{DOCUMENT}#{anchor(alert)}"


def runbook_url(alert: str, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/{runbook_path(alert)}"


def linked(groups: Sequence[dict[str, Any]], base_url: str | None) -> list[dict[str, Any]]:
    """Copies of the rule groups whose every alerting rule links to its runbook; recording
    rules are left as they are. Refuses an alerting rule without a `description`."""
    out = copy.deepcopy(list(groups))
    for group in out:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            annotations = rule.setdefault("annotations", {})
            if not annotations.get(DESCRIPTION, "").strip():
                raise MissingFirstAction(
                    f"alert {rule['alert']} (group {group['name']}) has no description: "
                    f"give it the first action, and a section in {DOCUMENT}"
                )
            annotations[RUNBOOK] = runbook_path(rule["alert"])
            if base_url is not None:
                annotations[RUNBOOK_URL] = runbook_url(rule["alert"], base_url)
    return out
