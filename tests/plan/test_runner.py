"""`pingvas-infra plan` end to end, as a newcomer runs it (a subprocess)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pingvas_infra import resource_types as rt
from tests.support.cli import CliPlan, run_cli
from tests.support.project import PROJECT_DIR, STACK


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_two_plans_are_byte_identical(cli_plan: CliPlan, tmp_path: Path) -> None:
    second = tmp_path / "second"
    done = run_cli("plan", "--stack", STACK, "--out", str(second))
    assert done.returncode == 0, done.stdout + done.stderr
    assert files_of(cli_plan.out) == files_of(second)
    assert "resources.json" in files_of(second)


def test_resources_json_holds_the_foundation_graph(cli_plan: CliPlan) -> None:
    document = json.loads((cli_plan.out / "resources.json").read_text())
    assert document["project"] == "pingvas-infra"
    assert document["stack"] == "shared"
    resources = document["resources"]
    by_type: dict[str, list[dict]] = {}
    for resource in resources:
        assert set(resource) >= {
            "urn",
            "type",
            "name",
            "parent",
            "custom",
            "inputs",
            "protect",
            "retainOnDelete",
            "dependencies",
        }
        by_type.setdefault(resource["type"], []).append(resource)
    assert len(by_type[rt.NAT_GATEWAY]) == 1
    subnets = by_type[rt.SUBNET]
    # Three tiers and each environment's load-balancer subnets, one per zone.
    assert len(subnets) == 15
    assert len({s["inputs"]["availabilityZone"] for s in subnets}) == 3
    endpoints = by_type[rt.VPC_ENDPOINT]
    assert [e["inputs"]["vpcEndpointType"] for e in endpoints] == ["Gateway"]
    components = {r["urn"] for r in resources if r["type"].startswith(rt.COMPONENT_PREFIX)}
    assert components
    assert all(s["parent"] in components for s in subnets)
    assert [r["urn"] for r in resources] == sorted(r["urn"] for r in resources)


def bad_project(tmp_path: Path, network_yaml: str) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.shared.yaml").write_text(
        "config:\n  pingvas-infra:network:\n" + network_yaml, encoding="utf-8"
    )
    return tmp_path


def test_invalid_vpc_cidr_exits_nonzero_with_one_screen_message(tmp_path: Path) -> None:
    project = bad_project(tmp_path, "    vpcCidr: 10.0.0.0/33\n    natGateways: 2\n")
    done = run_cli("plan", "--out", str(tmp_path / "out"), cwd=project)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert "pingvas-infra:network.vpcCidr = " in done.stderr
    assert len(done.stderr.splitlines()) <= 25
    assert not (tmp_path / "out").exists()


def test_plan_refuses_to_empty_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    done = run_cli("plan", "--out", str(tmp_path), "--project-dir", str(PROJECT_DIR))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert "was not written by `pingvas-infra plan`" in done.stderr
    # Refused before the program ran: no layer summary was printed.
    assert "resources by layer" not in done.stdout
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("stack_yaml", "key"),
    [
        pytest.param(
            "config:\n  pingvas:cluster:\n    name: x\n",
            "pingvas:cluster",
            id="project-name-as-namespace",
        ),
        pytest.param(
            "config:\n  pingvas-infra:data:\n    aurora: {minAcu: 1}\n"
            "  pingvas-infra:data:\n    aurora: {maxAcu: 8}\n",
            "pingvas-infra:data",
            id="key-given-twice",
        ),
        pytest.param(
            "config:\n  aws:regoin: eu-west-1\n  pingvas-infra:cluster:\n"
            "    systemNodes: {maxSize: true}\n",
            "aws:regoin",
            id="aws-typo-and-a-boolean-count",
        ),
    ],
)
def test_a_bad_stack_file_exits_2_before_anything_with_nothing_written(
    tmp_path: Path, stack_yaml: str, key: str
) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.shared.yaml").write_text(stack_yaml, encoding="utf-8")
    done = run_cli("plan", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert f"  - {key} = " in done.stderr
    assert "nothing was created" in done.stderr
    assert "resources by layer" not in done.stdout
    assert not (tmp_path / "out").exists()
