"""A container on a GPU node sees only the GPUs it was allocated.

What can run here: the node class's user data is parsed as the MIME multi-part document
Karpenter merges with its own on AL2023, its script is checked by bash and shellcheck, and
the settings it writes are the NVIDIA container toolkit's documented pair for this
(accept-nvidia-visible-devices-envvar-when-unprivileged=false with
accept-nvidia-visible-devices-as-volume-mounts=true, matching the device plugin's
volume-mounts device list strategy). The toolkit itself needs an NVIDIA driver and is not
installed here; the pod-side half (no privileged containers, no faked device-list mounts,
no NVIDIA_VISIBLE_DEVICES in a spec) is proven with the CEL interpreter in
tests/tenancy/test_admission_policy.py.
"""

from __future__ import annotations

import email
import shlex
import subprocess
from pathlib import Path

from pingvas_infra.gpu.component import DEVICE_LIST_STRATEGY
from pingvas_infra.plan.model import PlanResult
from tests.support.tools import require_tool

NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
RELEASE = "kubernetes:helm.sh/v3:Release"
SCRIPT = Path(__file__).resolve().parents[2] / "pingvas_infra" / "gpu" / "gpu-visibility.sh"


def user_data_script(graph: PlanResult) -> str:
    (node_class,) = graph.of_type(NODE_CLASS)
    message = email.message_from_string(node_class.inputs["spec"]["userData"])
    assert message.is_multipart()
    (part,) = message.get_payload()
    assert part.get_content_type() == "text/x-shellscript"
    return str(part.get_payload())


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


def test_the_script_is_valid_shell(tmp_path: Path) -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)], check=False).returncode == 0
    done = subprocess.run(
        [require_tool("shellcheck"), "--shell=bash", str(SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout


def test_the_device_plugin_hands_out_gpus_as_volume_mounts(graph: PlanResult) -> None:
    (plugin,) = [r for r in graph.of_type(RELEASE) if r.inputs["name"] == "nvidia-device-plugin"]
    assert plugin.inputs["values"]["deviceListStrategy"] == DEVICE_LIST_STRATEGY == "volume-mounts"
