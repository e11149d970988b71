"""A container on a GPU node sees only the GPUs it was allocated.

What can run here: the node class's user data is parsed as the MIME multi-part document
Karpenter merges with its own on AL2023; its script is checked by bash and shellcheck and
run by bash in a sandbox, against a config.toml of the toolkit's default shape, with a
stand-in for `nvidia-ctk config` that follows the toolkit's own code (tests/gpu/nvidia_ctk.py);
the file it leaves is read with a TOML parser and must hold the toolkit's pair for this
(accept-nvidia-visible-devices-envvar-when-unprivileged=false with
accept-nvidia-visible-devices-as-volume-mounts=true, matching the device plugin's
volume-mounts device list strategy), where the toolkit's Config reads them.

Not proven here: the real nvidia-ctk and the toolkit's hook (they need an NVIDIA driver),
and device requests the toolkit takes from CDI annotations (cdi.k8s.io/), which it
prefers over both: the kubelet passes a pod's own annotations to the sandbox, not to its
containers. The pod-side half (no privileged containers, no faked device-list mounts, no
NVIDIA_VISIBLE_DEVICES in a spec) is proven with the CEL interpreter in
tests/tenancy/test_admission_policy.py; a list set through envFrom is what this node
setting makes harmless.
"""

from __future__ import annotations

import email
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from email.message import Message
from pathlib import Path

import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.gpu.component import DEVICE_LIST_STRATEGY
from pingvas_infra.node_user_data import SHELL_SCRIPT_CONTENT_TYPE
from pingvas_infra.plan.model import PlanResult
from tests.support.tools import shellcheck_findings

SCRIPT = Path(__file__).resolve().parents[2] / "pingvas_infra" / "gpu" / "gpu-visibility.sh"
FIXTURES = Path(__file__).parent / "fixtures"
TOOLKIT = yaml.safe_load((FIXTURES / "nvidia-container-toolkit.yaml").read_text(encoding="utf-8"))
ENVVAR_KEY = "accept-nvidia-visible-devices-envvar-when-unprivileged"
MOUNTS_KEY = "accept-nvidia-visible-devices-as-volume-mounts"


def user_data_script(graph: PlanResult) -> str:
    (node_class,) = [
        c for c in graph.of_type(rt.EC2_NODE_CLASS) if c.inputs["metadata"]["name"] == "gpu"
    ]
    message = email.message_from_string(node_class.inputs["spec"]["userData"])
    assert message.is_multipart()
    (part,) = [
        p
        for p in message.get_payload()
        if isinstance(p, Message)
        and p.get_content_type() == SHELL_SCRIPT_CONTENT_TYPE.split(";")[0]
    ]
    return str(part.get_payload())


def run_on_a_node(script: str, tmp_path: Path) -> dict[str, object]:
    """Run ``script`` as the node's cloud-init would, with $XDG_CONFIG_HOME standing in for
    /etc; the config.toml it leaves, parsed."""
    config = tmp_path / "etc" / TOOLKIT["configFile"]
    config.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "nvidia-container-runtime-config.toml", config)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "nvidia-ctk"
    stand_in.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).parent / "nvidia_ctk.py"}" "$@"\n'
    )
    stand_in.chmod(0o755)
    script_file = tmp_path / "user-data.sh"
    script_file.write_text(script)
    done = subprocess.run(
        ["bash", str(script_file)],
        env={
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "XDG_CONFIG_HOME": str(tmp_path / "etc"),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return tomllib.loads(config.read_text(encoding="utf-8"))


def test_gpu_nodes_ignore_visible_devices_from_unprivileged_containers(graph: PlanResult) -> None:
    script = user_data_script(graph)
    assert script == SCRIPT.read_text(encoding="utf-8")
    commands = [line for line in script.splitlines() if line and not line.startswith("#")]
    words = shlex.split(" ".join(c.rstrip("\\") for c in commands[1:]))
    assert words[:3] == ["nvidia-ctk", "config", "--in-place"]
    settings = dict(w.split("=", 1) for w in words[3:] if w != "--set")
    assert settings == {
        "accept-nvidia-visible-devices-envvar-when-unprivileged": "false",
        "accept-nvidia-visible-devices-as-volume-mounts": "true",
    }


def test_the_node_script_leaves_the_toolkit_ignoring_visible_devices(
    graph: PlanResult, tmp_path: Path
) -> None:
    before = tomllib.loads((FIXTURES / "nvidia-container-runtime-config.toml").read_text())
    after = run_on_a_node(user_data_script(graph), tmp_path)
    # Top-level keys, where the toolkit's Config reads them, as TOML booleans.
    assert after[ENVVAR_KEY] is False
    assert after[MOUNTS_KEY] is True
    assert {ENVVAR_KEY, MOUNTS_KEY} <= set(TOOLKIT["topLevelKeys"])
    # The toolkit's defaults are the opposite: without the script, any container's
    # NVIDIA_VISIBLE_DEVICES=all would be honoured.
    assert TOOLKIT["defaults"] == {ENVVAR_KEY: True, MOUNTS_KEY: False}
    # Nothing else changed.
    assert {k: v for k, v in after.items() if k not in (ENVVAR_KEY, MOUNTS_KEY)} == before


def test_the_stand_in_refuses_what_nvidia_ctk_refuses(tmp_path: Path) -> None:
    """A misspelt key or a value that is no Go bool fails the node script (set -e)."""
    wrong = ("accept-nvidia-visible-devices-envvar-when-unprivilegd=false", f"{ENVVAR_KEY}=no")
    for n, setting in enumerate(wrong):
        script = f"set -euo pipefail\nnvidia-ctk config --in-place --set {setting}\n"
        try:
            run_on_a_node(script, tmp_path / str(n))
        except AssertionError:
            continue
        raise AssertionError(f"{setting} was accepted")


def test_the_script_is_valid_shell(tmp_path: Path) -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)], check=False).returncode == 0
    assert shellcheck_findings(SCRIPT) == ""


def test_the_device_plugin_hands_out_gpus_as_volume_mounts(graph: PlanResult) -> None:
    (plugin,) = [
        r for r in graph.of_type(rt.HELM_RELEASE) if r.inputs["name"] == "nvidia-device-plugin"
    ]
    assert plugin.inputs["values"]["deviceListStrategy"] == DEVICE_LIST_STRATEGY == "volume-mounts"
