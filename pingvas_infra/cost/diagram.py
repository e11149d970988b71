"""cost-map.svg: the bill drawn over the recorded graph with graphviz, one cluster per layer
and the monthly cost on every node (the system itself is architecture.svg).

Billable resources get a node each (many of one type in a layer share one node); the
free building blocks of a layer (subnets, routes, IAM, Kubernetes objects) are folded into
one node that counts them, so the picture stays readable. Edges follow the dependencies
between billable nodes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import graphviz

from pingvas_infra import resource_types as rt
from pingvas_infra.cost.model import WORKLOAD_LAYER
from pingvas_infra.cost.report import IDLE, LAYER_ORDER, REFERENCE, THIS_STACK, CostReport
from pingvas_infra.plan.model import RecordedResource

# More billable resources than this of one type in one layer share a node.
GROUP_ABOVE = 4
_SKIPPED_PREFIXES = (rt.COMPONENT_PREFIX, rt.PROVIDER_PREFIX)


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def _layer_key(layer: str) -> tuple[int, str]:
    if layer in LAYER_ORDER:
        return (LAYER_ORDER.index(layer), layer)
    return (len(LAYER_ORDER) + (layer == WORKLOAD_LAYER), layer)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def diagram(report: CostReport, resources: Sequence[RecordedResource]) -> graphviz.Digraph:
    idle, reference = report.this_stack[IDLE], report.this_stack[REFERENCE]
    cost: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for index, priced in enumerate((idle, reference)):
        for line in priced.lines:
            cost[(line.resource_type, line.resource)][index] += line.monthly
    unpriced = {(u.resource_type, u.resource) for u in idle.unpriced}

    drawn = [r for r in resources if not r.type.startswith(_SKIPPED_PREFIXES)]
    by_layer: dict[str, list[RecordedResource]] = defaultdict(list)
    for resource in drawn:
        by_layer[resource.layer].append(resource)

    graph = graphviz.Digraph(
        "architecture",
        graph_attr={
            "rankdir": "LR",
            "fontname": "Helvetica",
            "fontsize": "16",
            "labelloc": "t",
            "label": (
                f"{report.project} / {report.stack}: "
                f"{_usd(report.total(THIS_STACK, IDLE))} a month idle, "
                f"{_usd(report.total(THIS_STACK, REFERENCE))} at {REFERENCE} usage "
                f"({report.table.region} prices of {report.table.date.isoformat()})"
            ),
            "nodesep": "0.25",
            "ranksep": "0.6",
        },
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fontname": "Helvetica",
            "fontsize": "10",
        },
        edge_attr={"color": "#8a8a8a", "arrowsize": "0.6"},
    )
    node_of: dict[str, str] = {}
    # graphviz stacks LR clusters bottom-up: the last defined is drawn on top.
    layers = sorted({*by_layer, WORKLOAD_LAYER}, key=_layer_key, reverse=True)
    for layer_index, layer in enumerate(layers):
        members = sorted(by_layer.get(layer, []), key=lambda r: (r.type, r.name))
        layer_idle = sum(line.monthly for line in idle.lines if line.layer == layer)
        layer_reference = sum(line.monthly for line in reference.lines if line.layer == layer)
        with graph.subgraph(name=f"cluster_{layer_index}") as cluster:
            cluster.attr(
                label=f"{layer}: {_usd(layer_idle)} idle / {_usd(layer_reference)} {REFERENCE}",
                style="rounded",
                color="#4a6fa5",
                fontname="Helvetica",
            )
            if layer == WORKLOAD_LAYER:
                cluster.node(
                    f"l{layer_index}_traffic",
                    label=(
                        "internet traffic\\n(data transfer out, CloudFront)\\n"
                        f"{_usd(layer_idle)} idle / {_usd(layer_reference)} ref"
                    ),
                    fillcolor="#fff4d6",
                )
                continue
            billable = [
                r for r in members if (r.type, r.name) in cost or (r.type, r.name) in unpriced
            ]
            per_type = Counter(r.type for r in billable)
            groups: dict[str, list[RecordedResource]] = {}
            for index, resource in enumerate(billable):
                key = (resource.type, resource.name)
                grouped = per_type[resource.type] > GROUP_ABOVE and key not in unpriced
                node_id = f"l{layer_index}_{rt.short_name(resource.type) if grouped else index}"
                groups.setdefault(node_id, []).append(resource)
                node_of[resource.urn] = node_id
            for node_id, group in groups.items():
                first = group[0]
                if (first.type, first.name) in unpriced:
                    label = f"{rt.short_name(first.type)}\\n{_escape(first.name)}\\nUNPRICED"
                    cluster.node(node_id, label=label, fillcolor="#f6b1a8")
                    continue
                totals = [sum(cost[(r.type, r.name)][i] for r in group) for i in (0, 1)]
                title = (
                    f"{rt.short_name(first.type)} x{len(group)}"
                    if len(group) > 1
                    else f"{rt.short_name(first.type)}\\n{_escape(first.name)}"
                )
                cluster.node(
                    node_id,
                    label=f"{title}\\n{_usd(totals[0])} idle / {_usd(totals[1])} ref",
                    fillcolor="#e3f0e3" if totals[0] == 0 else "#d6e6f7",
                )
            free = [r for r in members if r.urn not in node_of]
            if free:
                counts = Counter(rt.short_name(r.type) for r in free)
                text = "\\n".join(f"{name} x{count}" for name, count in sorted(counts.items()))
                node_id = f"l{layer_index}_free"
                cluster.node(
                    node_id, label=f"no charge\\n{text}", fillcolor="#eeeeee", fontsize="8"
                )
                for resource in free:
                    node_of[resource.urn] = node_id
    edges = set()
    for resource in drawn:
        source = node_of.get(resource.urn)
        for dependency in resource.dependencies:
            target = node_of.get(dependency)
            if source and target and source != target and "_free" not in (source[-5:], target[-5:]):
                edges.add((source, target))
    for source, target in sorted(edges):
        graph.edge(source, target)
    return graph


def render_svg(report: CostReport, resources: Sequence[RecordedResource]) -> bytes:
    """The SVG (raises graphviz.ExecutableNotFound when `dot` is not installed)."""
    svg: bytes = diagram(report, resources).pipe(format="svg")
    return svg
