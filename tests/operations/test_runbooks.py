"""Every alert the stack renders tells the on-call what to do: a first action
(`description`), its section of docs/runbooks.md (`runbook`, and `runbook_url` once the
repository's address is set), and that section names the alert and the real objects to
look at. kube-prometheus-stack's own rules keep the chart's links to the upstream runbooks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.operations import backup, routing, runbooks
from pingvas_infra.plan.model import PlanResult
from tests.operations.monitoring_graph import (
    BOTH_KEYS,
    kube_prometheus_stack,
    operations,
    promtool,
    rule_file,
    rule_groups,
)
from tests.support.charts import chart_values
from tests.support.markdown import anchors, sections
from tests.support.plan_graph import PlanRunner
from tests.support.project import PROJECT_DIR

DOCUMENT = PROJECT_DIR / runbooks.DOCUMENT
STACK_ALERTS_SECTION = "Alerts the stack defines"
UPSTREAM_RUNBOOKS = "https://runbooks.prometheus-operator.dev/"
BASE_URL = "https://git.example.com/acme/pingvas-infra/blob/main/"
WITH_BASE_URL = {"pingvas-infra:operations": {"monitoring": {"runbookBaseUrl": BASE_URL}}}


@pytest.fixture(scope="module")
def ops(run_plan: PlanRunner) -> PlanResult:
    return operations(run_plan, {}, BOTH_KEYS)


@pytest.fixture(scope="module")
def ops_with_base_url(run_plan: PlanRunner) -> PlanResult:
    return operations(run_plan, WITH_BASE_URL, BOTH_KEYS)


def alert_rules(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def stack_alert_sections() -> dict[str, str]:
    """The runbook sections under "Alerts the stack defines": alert name -> its text."""
    found = sections(DOCUMENT)
    level, text = found[STACK_ALERTS_SECTION]
    return {
        title: body
        for title, (title_level, body) in found.items()
        if title_level == level + 1 and body in text
    }


def missing_runbooks(rules: list[dict[str, Any]], document: Path) -> list[str]:
    """Each alert whose `runbook` leads to no file or no heading, or whose section in the
    runbooks does not name it."""
    missing = []
    titled = {title: body for title, (_, body) in sections(document).items()}
    for rule in rules:
        alert = rule["alert"]
        target = rule.get("annotations", {}).get(runbooks.RUNBOOK, "")
        file_part, _, fragment = target.partition("#")
        linked = PROJECT_DIR / file_part
        if not file_part or not linked.is_file():
            missing.append(f"{alert}: runbook {target!r} is no file of the repository")
        elif fragment not in anchors(linked):
            missing.append(f"{alert}: no heading #{fragment} in {file_part}")
        elif alert not in titled.get(alert, ""):
            missing.append(f"{alert}: no section named {alert} in {file_part}")
    return missing


def test_the_plan_renders_the_alerts_the_runbooks_cover(ops: PlanResult) -> None:
    """The rendered PrometheusRules hold exactly the alerts with a section under "Alerts
    the stack defines": a new alert needs a section, a renamed one leaves none behind."""
    rendered = {rule["alert"] for rule in alert_rules(rule_groups(ops))}
    assert len(rendered) == 11
    assert set(stack_alert_sections()) == rendered


def test_every_alert_has_a_first_action_and_its_section(ops: PlanResult) -> None:
    rules = alert_rules(rule_groups(ops))
    for rule in rules:
        annotations = rule["annotations"]
        description = annotations[runbooks.DESCRIPTION]
        assert "\n" not in description and len(description) < 400, rule["alert"]
        assert re.search(r"\bkubectl\b", description), rule["alert"]
        # No address is invented while the repository's is unset.
        assert runbooks.RUNBOOK_URL not in annotations
    assert missing_runbooks(rules, DOCUMENT) == []


def test_with_the_base_url_every_alert_links_an_absolute_runbook_url(
    ops_with_base_url: PlanResult, tmp_path: Path
) -> None:
    rules = alert_rules(rule_groups(ops_with_base_url))
    assert rules
    for rule in rules:
        url = rule["annotations"][runbooks.RUNBOOK_URL]
        assert url.startswith(BASE_URL) and "//docs" not in url
        # What follows the base is a file of this repository and one of its headings.
        file_part, _, fragment = url.removeprefix(BASE_URL).partition("#")
        assert (PROJECT_DIR / file_part).is_file(), url
        assert fragment in anchors(PROJECT_DIR / file_part), url
    assert missing_runbooks(rules, DOCUMENT) == []
    done = promtool("check", "rules", str(rule_file(ops_with_base_url, tmp_path)))
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_section_names_the_real_objects_and_says_what_to_do(ops: PlanResult) -> None:
    """The commands name what the plan renders: the alert's namespace, its NodePool, the
    backup CronJob; every section has first checks, causes and fix, and when to escalate."""
    found = stack_alert_sections()
    for rule in alert_rules(rule_groups(ops)):
        alert, text = rule["alert"], found[rule["alert"]]
        for part in ("**What fired.**", "**First checks.**", "**Usual causes and fix.**"):
            assert part in text, (alert, part)
        assert "**Escalate when**" in text, alert
        assert "```bash\nkubectl " in text, alert
        pool = rule["labels"].get("nodepool")
        if pool:
            assert f"karpenter.sh/nodepool={pool}" in text or f"NodePool `{pool}`" in text
        namespaces = {
            e.namespace for e in ENVIRONMENTS if f'namespace="{e.namespace}"' in rule["expr"]
        }
        for namespace in namespaces:
            assert f"-n {namespace} " in text, (alert, namespace)
        if "cronjob" in rule["expr"]:
            assert f"cronjob/{backup.NAME}" in text or f"cronjob {backup.NAME}" in text


def test_a_new_alert_without_a_runbook_is_caught() -> None:
    """What a developer adding an alert meets: no description refuses the plan; a
    description without a section fails the runbook check."""
    summary = {"summary": "The model store is nearly full"}
    without_first_action = [
        {"name": "g", "rules": [{"alert": "ProdModelStoreFull", "expr": "vector(1)"}]}
    ]
    with pytest.raises(runbooks.MissingFirstAction, match="ProdModelStoreFull"):
        runbooks.linked(without_first_action, None)
    blank = [
        {
            "name": "g",
            "rules": [{"alert": "X", "expr": "vector(1)", "annotations": {"description": "  "}}],
        }
    ]
    with pytest.raises(runbooks.MissingFirstAction):
        runbooks.linked(blank, None)
    new = {
        "alert": "ProdModelStoreFull",
        "expr": "vector(1)",
        "annotations": {**summary, "description": "Run kubectl -n prod get pvc models"},
    }
    linked = alert_rules(runbooks.linked([{"name": "g", "rules": [new]}], None))
    assert missing_runbooks(linked, DOCUMENT) == [
        "ProdModelStoreFull: no heading #prodmodelstorefull in docs/runbooks.md"
    ]
    # A heading that only mentions the alert elsewhere is not its section either.
    renamed = {**new, "alert": "ProdBackupFailed2"}
    linked = alert_rules(runbooks.linked([{"name": "g", "rules": [renamed]}], None))
    assert missing_runbooks(linked, DOCUMENT) == [
        "ProdBackupFailed2: no heading #prodbackupfailed2 in docs/runbooks.md"
    ]
    # A runbook path into nowhere.
    astray = {**new, "annotations": {**new["annotations"], "runbook": "docs/gone.md#x"}}
    assert missing_runbooks([astray], DOCUMENT) == [
        "ProdModelStoreFull: runbook 'docs/gone.md#x' is no file of the repository"
    ]


def test_recording_rules_are_left_alone() -> None:
    recording = {"record": "pingvas:x", "expr": "vector(1)"}
    assert runbooks.linked([{"name": "g", "rules": [recording]}], BASE_URL) == [
        {"name": "g", "rules": [recording]}
    ]


def test_the_anchor_is_githubs(tmp_path: Path) -> None:
    """The product's anchor of a heading is the one the link checker (GitHub's rules)
    finds, for the alert names and for headings GitHub rewrites."""
    headings = ["ProdBackupFailed", "Spot interruptions (per hour)", "dev_user: quota"]
    page = tmp_path / "page.md"
    page.write_text("".join(f"## {h}\n\ntext\n\n" for h in headings), encoding="utf-8")
    assert {runbooks.anchor(h) for h in headings} == anchors(page)


def test_watchdog_has_its_section(ops: PlanResult) -> None:
    """The heartbeat route sends Watchdog to the dead man's switch: when that service
    pages, the on-call needs the way back to a working Prometheus and Alertmanager."""
    found = {title: body for title, (_, body) in sections(DOCUMENT).items()}
    (title,) = [t for t in found if t.startswith(f"{routing.HEARTBEAT.alert}:")]
    text = found[title]
    assert routing.HEARTBEAT.secret_config_key in text
    for alert in routing.FAILED_TO_SEND_ALERTS[:1]:
        assert alert in text
    assert f"-n {kube_prometheus_stack(ops).inputs['namespace']} " in text


def test_the_charts_own_rules_keep_the_upstream_runbooks(ops: PlanResult) -> None:
    """kube-prometheus-stack's default rules link `<defaultRules.runbookUrl>/<group>/<alert>`
    (the pinned chart's values); the stack leaves that prefix alone and the runbooks point
    there."""
    upstream = chart_values("kube-prometheus-stack-88.5.3")["defaultRules"]["runbookUrl"]
    assert upstream.startswith(UPSTREAM_RUNBOOKS)
    values = kube_prometheus_stack(ops).inputs["values"]
    assert "runbookUrl" not in values.get("defaultRules", {})
    found = {title: body for title, (_, body) in sections(DOCUMENT).items()}
    (text,) = [body for title, body in found.items() if "kube-prometheus-stack" in title]
    assert UPSTREAM_RUNBOOKS in text and "runbook_url" in text
