"""architecture.svg: drawn from the graph, and legible.

Two kinds of proof:

- the drawing's arrows are the flows the graph allows (security group rules, NetworkPolicies,
  routes), checked on the graphviz source, including a policy an adversary adds;
- the picture shows its labels: the SVG is rendered to a raster image (rsvg-convert, Debian's
  librsvg2-bin) and each expected label's region is cut out of that raster by rendering the
  SVG with the label's box as its viewBox, then read back by OCR (tesseract). Text present
  in the SVG is not enough: a label covered by another shape, clipped, or drawn in a font the
  renderer cannot show would fail here, because only what the raster shows is read.
"""

from __future__ import annotations

import copy
import difflib
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.architecture import architecture, render_architecture
from pingvas_infra.cost.diagram import render_svg
from pingvas_infra.plan.model import PlanResult
from tests.support.cost import report_of
from tests.support.plan_graph import recorded_resource
from tests.support.project import PROJECT_DIR
from tests.support.tools import require_tool

SVG_NS = "{http://www.w3.org/2000/svg}"
# Labels the picture must show: the VPC, each zone and subnet tier, NAT, the cluster, its
# node group and GPU pools, the namespaces, data stores, buckets, EFS and the flows' ports.
EXPECTED = [
    "VPC 10.0.0.0/16",
    "zone us-east-1a",
    "zone us-east-1b",
    "zone us-east-1c",
    "public subnet",
    "load-balancer subnet",
    "private subnet",
    "data subnet",
    "NAT gateway",
    "EKS pingvas-shared-eks (private subnets)",
    "system node group",
    "GPU NodePool gpu-dev",
    "GPU NodePool gpu-prod",
    "overflow NodePool system-overflow",
    "namespace dev",
    "namespace prod",
    "namespace pingvas-system",
    "environment platform",
    "Aurora writer",
    "Aurora reader",
    "Valkey primary",
    "Valkey replica",
    "EFS mount target",
    "EFS model store",
    "S3 prod-images",
    "S3 dev-images",
    "S3 models",
    "S3 backups",
    "S3 gateway endpoint",
    "cluster security group",
    "ALB pingvas-dev",
    "ALB pingvas-prod",
    "HTTP 80",
    "TCP 5432",
    "TCP 8000",
    "TCP 443",
]


def _texts(svg: bytes) -> list[tuple[str, float, float, float, str]]:
    """(text, x, y, font size, anchor) of every text element, in the SVG's user space."""
    root = ET.fromstring(svg)
    graph = root.find(f"{SVG_NS}g")
    assert graph is not None
    match = re.search(r"translate\(([-\d.]+) ([-\d.]+)\)", graph.get("transform", ""))
    dx, dy = (float(match[1]), float(match[2])) if match else (0.0, 0.0)
    found = []
    for text in root.iter(f"{SVG_NS}text"):
        found.append(
            (
                (text.text or "").strip(),
                float(text.get("x", 0)) + dx,
                float(text.get("y", 0)) + dy,
                float(text.get("font-size", 10)),
                text.get("text-anchor", "start"),
            )
        )
    return found


def _render_region(svg: bytes, box: tuple[float, float, float, float], out: Path) -> Path:
    """The raster of ``box`` (x, y, width, height) of the picture, at 4x."""
    ET.register_namespace("", SVG_NS.strip("{}"))
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    root = copy.deepcopy(ET.fromstring(svg))
    x, y, width, height = box
    root.set("viewBox", f"{x} {y} {width} {height}")
    root.set("width", f"{width * 4}")
    root.set("height", f"{height * 4}")
    source = out.with_suffix(".svg")
    source.write_bytes(ET.tostring(root))
    subprocess.run(
        [require_tool("rsvg-convert"), "-b", "white", "-o", str(out), str(source)], check=True
    )
    return out


def _ocr(png: Path) -> str:
    done = subprocess.run(
        [require_tool("tesseract"), str(png), "stdout", "--psm", "7"],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9./]", "", text.lower())


@pytest.fixture(scope="module")
def svg(graph: PlanResult) -> bytes:
    return render_architecture(graph)


def test_the_whole_picture_renders_to_a_raster(svg: bytes, tmp_path: Path) -> None:
    png, source = tmp_path / "architecture.png", tmp_path / "architecture.svg"
    source.write_bytes(svg)
    subprocess.run([require_tool("rsvg-convert"), "-o", str(png), str(source)], check=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 50_000


@pytest.mark.parametrize("label", EXPECTED)
def test_each_expected_label_is_legible_in_the_raster(
    svg: bytes, label: str, tmp_path: Path
) -> None:
    candidates = [t for t in _texts(svg) if t[0] == label]
    assert candidates, f"{label!r} is not drawn at all"
    readings = []
    for index, (text, x, y, size, anchor) in enumerate(candidates):
        width = len(text) * size * 0.62 + 8
        left = x - width / 2 if anchor == "middle" else x - 4
        png = _render_region(
            svg, (left, y - size * 1.1, width, size * 1.6), tmp_path / f"{index}.png"
        )
        reading = _ocr(png)
        readings.append(reading)
        ratio = difflib.SequenceMatcher(None, _normal(reading), _normal(text)).ratio()
        if ratio >= 0.85:
            return
    pytest.fail(f"{label!r} is drawn but no copy of it reads back from the raster: {readings}")


def _legible(svg: bytes, text: str, tmp_path: Path) -> bool:
    for index, (found, x, y, size, anchor) in enumerate(_texts(svg)):
        if found != text:
            continue
        width = len(text) * size * 0.62 + 8
        left = x - width / 2 if anchor == "middle" else x - 4
        box = (left, y - size * 1.1, width, size * 1.6)
        reading = _ocr(_render_region(svg, box, tmp_path / f"check-{index}.png"))
        if difflib.SequenceMatcher(None, _normal(reading), _normal(text)).ratio() >= 0.85:
            return True
    return False


def test_a_label_hidden_under_another_shape_is_not_read(svg: bytes, tmp_path: Path) -> None:
    """What the OCR check proves: the text is visible in the raster, not merely in the SVG.
    The same label under an opaque box drawn after it (still in the SVG's text) fails."""
    ((_, x, y, size, _),) = [t for t in _texts(svg) if t[0] == "namespace pingvas-system"]
    assert _legible(svg, "namespace pingvas-system", tmp_path)
    width = len("namespace pingvas-system") * size * 0.62 + 8
    cover = (
        f'<rect x="{x - width / 2}" y="{y - size * 1.2}" width="{width}" '
        f'height="{size * 1.8}" fill="#fdf6d8"/></svg>'
    ).encode()
    root = ET.fromstring(svg)
    graph = root.find(f"{SVG_NS}g")
    assert graph is not None
    match = re.search(r"translate\(([-\d.]+) ([-\d.]+)\)", graph.get("transform", ""))
    assert match  # the cover is drawn in the root's user space, like _texts' coordinates
    covered = svg.rstrip().removesuffix(b"</svg>") + cover
    assert "namespace pingvas-system" in [t[0] for t in _texts(covered)]
    assert not _legible(covered, "namespace pingvas-system", tmp_path)


EDGE = r'^\s*"?([\w.-]+)"? -> "?([\w.-]+)"?(?: \[.*?label="([^"]*)")?'


def _edges(graph: PlanResult) -> set[tuple[str, str, str]]:
    source = architecture(graph).source
    return {
        (m[1], m[2], m[3] or "")
        for m in re.finditer(
            r'^\s*"?([\w.-]+)"? -> "?([\w.-]+)"?(?: \[.*?label="([^"]*)")?', source, re.M
        )
    }


def test_the_arrows_are_the_flows_the_graph_allows(graph: PlanResult) -> None:
    edges = _edges(graph)
    labels = {(a, b): label for a, b, label in edges}
    # Security groups: only the cluster security group reaches the stores, on their port.
    assert labels[("eks_sg", "clusterinstance_data_aurora_writer")] == "TCP 5432"
    assert labels[("eks_sg", "clusterinstance_data_aurora_reader")] == "TCP 5432"
    assert labels[("eks_sg", "replicationgroup_data_cache_us_east_1b")] == "TCP 6379"
    assert labels[("eks_sg", "mounttarget_storage_models_us_east_1c")] == "TCP 2049"
    # NetworkPolicies: dev and prod reach the data subnets on PostgreSQL and Valkey (NFS is
    # the node's EFS CSI plugin, not a pod's), the platform namespace on 5432 only; the
    # load balancers' subnets reach labelled pods on 8000.
    for zone in ("a", "b", "c"):
        data = f"subnet_network_data_us_east_1{zone}"
        assert labels[("ns_dev", data)] == "TCP 5432, TCP 6379"
        assert labels[("ns_prod", data)] == "TCP 5432, TCP 6379"
        assert labels[("ns_pingvas_system", data)] == "TCP 5432"
        # Each environment's load balancer subnets reach its own namespace, not the other.
        for env, other in (("dev", "prod"), ("prod", "dev")):
            entry = f"subnet_network_lb_{env}_us_east_1{zone}"
            assert labels[(entry, f"ns_{env}")] == "TCP 8000"
            assert (entry, f"ns_{other}") not in labels
            assert (f"ingressclassparams_ingress_alb_{env}_params", entry) in labels
        public = f"subnet_network_public_us_east_1{zone}"
        assert not [b for a, b in labels if a == public and b.startswith("ns_")]
    assert labels[("ns_dev", "internet")] == "TCP 443"
    assert labels[("ns_dev", "ns_kube_system")] == "UDP 53, TCP 53"
    # Default deny: no arrow between dev and prod either way, none into the data tier from
    # the internet, and the monitoring namespace (no policy) is said to have none.
    assert not {("ns_dev", "ns_prod"), ("ns_prod", "ns_dev")} & set(labels)
    # From the internet, only the two load balancers; nothing reaches a subnet or pod directly.
    assert sorted(b for a, b in labels if a == "internet") == [
        "ingressclassparams_ingress_alb_dev_params",
        "ingressclassparams_ingress_alb_prod_params",
    ]
    # Routes: private subnets to the NAT gateway, the S3 endpoint to every bucket.
    assert (
        labels[("subnet_network_private_us_east_1b", "natgateway_network_nat_us_east_1a")]
        == "0.0.0.0/0"
    )
    assert ("vpcendpoint_network_s3", "bucket_storage_prod_images") in labels
    # Pools reach their own environment only.
    assert labels[("nodepool_gpu_gpu_dev", "ns_dev")] == "taint dev"
    assert ("nodepool_gpu_gpu_dev", "ns_prod") not in labels


def test_a_policy_that_opens_dev_to_prod_shows_up_as_an_arrow(graph: PlanResult) -> None:
    """The picture follows the policies: an allowance an adversary adds is drawn."""
    opening = recorded_resource(
        f"urn:pulumi:shared::pingvas::pingvas:tenancy:Tenancy${rt.NETWORK_POLICY}::dev-to-prod",
        rt.NETWORK_POLICY,
        "dev-to-prod",
        {
            "metadata": {"name": "dev-to-prod", "namespace": "dev"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {"to": [{"namespaceSelector": {"matchLabels": {"environment": "prod"}}}]}
                ],
            },
        },
    )
    opened = PlanResult(
        project=graph.project,
        stack=graph.stack,
        resources=[*graph.resources, opening],
        outputs=graph.outputs,
    )
    assert ("ns_dev", "ns_prod", "all ports") in _edges(opened)


def test_the_readmes_pictures_match_a_fresh_plan(graph: PlanResult, svg: bytes) -> None:
    """docs/architecture.svg and docs/cost-map.svg are what the README shows: after a change
    to the graph, `python -m scripts.docs` redraws them."""
    docs = PROJECT_DIR / "docs"
    assert (docs / "architecture.svg").read_bytes() == svg
    fresh_map = render_svg(report_of(graph), graph.resources)
    assert (docs / "cost-map.svg").read_bytes() == fresh_map
