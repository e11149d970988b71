"""The cost report as text: cost.md, and the few lines the plan prints."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from pingvas_infra import resource_types as rt
from pingvas_infra.cost.model import CostLine, Priced, free_summary, sorted_lines
from pingvas_infra.cost.report import IDLE, LEGACY, REFERENCE, SINGLE, THIS_STACK, CostReport
from pingvas_infra.cost.targets import TargetCheck

UNKNOWN = "unknown"


def usd(value: float | None) -> str:
    """Dollars and cents; an unknown figure (something unpriced) reads as unknown."""
    if value is None:
        return UNKNOWN
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def _quantity(value: float) -> str:
    return f"{value:,.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def _unit_price(value: float) -> str:
    """At least cents, up to six decimals ($0.50, $0.1578, $0.012557)."""
    text = f"{value:,.6f}".rstrip("0")
    decimals = len(text.split(".")[1])
    return "$" + (text + "0" * (2 - decimals) if decimals < 2 else text)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], right: set[int]) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def comparison_rows(report: CostReport) -> list[list[str]]:
    rows = []
    for profile in report.profiles:
        this = report.total(THIS_STACK, profile)
        row = [profile, usd(this)]
        for baseline in (SINGLE, LEGACY):
            row.append(usd(report.total(baseline, profile)))
        for baseline in (SINGLE, LEGACY):
            ratio = report.ratio(profile, baseline)
            row.append(UNKNOWN if ratio is None else f"{ratio:.2f}x (saves {1 - ratio:.0%})")
        rows.append(row)
    return rows


COMPARISON_HEADER = [
    "profile",
    "this stack",
    "guide single-cluster",
    "legacy two-cluster",
    "vs single-cluster",
    "vs legacy",
]


def _target_text(check: TargetCheck, comparable: bool) -> str:
    if check.value is None:
        return f"{check.name}: UNKNOWN (a total includes unpriced resources) NOT MET"
    if check.limit is None:
        return f"{check.name}: {check.value:.0%} of on-demand (reported)"
    state = "met" if check.met else "NOT MET"
    if not comparable:
        state = "not judged: layers missing"
    # Ratios to four places: a total just under its limit must not read as the limit.
    value = f"{check.value:.0%}" if "GPU" in check.name else f"{check.value:.4f}x"
    limit = f"{check.limit:.0%}" if "GPU" in check.name else f"{check.limit:.2f}x"
    margin = "" if check.margin_usd is None else f", margin {usd(check.margin_usd)} a month"
    return f"{check.name}: {value} (limit {limit}{margin}) {state}"


def unknown_banner(report: CostReport) -> list[str]:
    """What makes totals unknown, named first: a reader must not mistake a partial sum for
    the cost."""
    unpriced = report.unpriced()
    if not unpriced:
        return []
    names = "; ".join(f"{u['type']} {u['resource']} ({u['reason']})" for u in unpriced)
    return [
        f"UNKNOWN TOTAL: {len(unpriced)} item(s) unpriced, so every total and target that "
        f"includes them is unknown: {names}"
    ]


def console_summary(report: CostReport, targets: Sequence[TargetCheck]) -> list[str]:
    """Plain lines for the terminal (no markup: the plan prints them through rich)."""
    table = report.table
    rows = comparison_rows(report)
    widths = [
        2 + max(len(cell) for cell in column)
        for column in zip(COMPARISON_HEADER, *rows, strict=True)
    ]
    lines = [
        *unknown_banner(report),
        f"monthly USD, {table.region} prices of {table.date.isoformat()} "
        f"({table.hours_per_month:g} h a month, spot {table.spot_discount.fraction:.0%} off)",
        "".join(h.ljust(w) for h, w in zip(COMPARISON_HEADER, widths, strict=True)).rstrip(),
    ]
    lines += [
        "".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    gpu = report.gpu
    pools = ", ".join(
        f"{env} {usd(pool.usd)} (spot share {pool.spot_share:g}, "
        f"{pool.share_of_on_demand:.0%} of on-demand)"
        for env, pool in gpu.pools.items()
    )
    lines.append(
        f"GPU per 1,000 images ({gpu.reference_instance}, {gpu.seconds_per_image:g} s each): "
        f"{pools}; all on-demand {usd(gpu.on_demand)}"
    )
    lines.append(
        "the design guide's cost tables reproduced: "
        + ", ".join(
            f"{name} ${r.total:,} ({'matches' if r.matches else 'DIFFERS from'} ${r.guide_total:,})"
            for name, r in report.reproductions.items()
        )
    )
    if report.missing_layers:
        lines.append(
            f"incomplete graph: no {', '.join(report.missing_layers)} layer yet, so totals and "
            "targets are not comparable with the baseline designs"
        )
    comparable = not report.missing_layers
    lines += ["target " + _target_text(check, comparable) for check in targets]
    unpriced = report.unpriced()
    lines.append(
        f"unpriced: {len(unpriced)} item(s), see cost.json" if unpriced else "unpriced: none"
    )
    return lines


def _line_rows(lines: Iterable[CostLine]) -> list[list[str]]:
    return [
        [
            f"{rt.short_name(line.resource_type)} {line.resource}",
            line.component,
            line.environment,
            _quantity(line.quantity),
            line.unit,
            _unit_price(line.unit_price),
            usd(line.monthly),
            line.kind,
        ]
        for line in sorted_lines(lines)
    ]


LINE_HEADER = ["resource", "component", "env", "quantity", "unit", "unit price", "monthly", "kind"]


def _design_lines(priced: Priced, heading: str) -> list[str]:
    out = [heading, ""]
    by_layer: dict[str, list[CostLine]] = defaultdict(list)
    for line in priced.lines:
        by_layer[line.layer].append(line)
    for layer, layer_lines in sorted(by_layer.items()):
        subtotal = sum(line.monthly for line in layer_lines)
        out += [f"**{layer}**: {usd(subtotal)}", ""]
        out += _table(LINE_HEADER, _line_rows(layer_lines), right={3, 5, 6})
        out.append("")
    return out


def render_markdown(report: CostReport, targets: Sequence[TargetCheck]) -> str:
    table = report.table
    out = [f"# Monthly cost: {report.project} / {report.stack}", ""]
    out += [item for line in unknown_banner(report) for item in (f"**{line}**", "")]
    out += [
        f"Prices: `{table.region}` table of {table.date.isoformat()}, {table.currency}, "
        f"{table.hours_per_month:g} hours a month, spot at {table.spot_discount.fraction:.0%} "
        "off on-demand (pingvas_infra/tables/prices/). Usage: the profiles in "
        "pingvas_infra/tables/profiles/, each quantity with its assumption beside it: "
        f"*{IDLE}* is the stack deployed with no traffic, *{REFERENCE}* the monthly usage "
        "the design guide this stack replaces states. *fixed* lines are capacity billed by "
        "the hour whatever the traffic; *usage* lines follow the profile.",
        "",
        "## This stack against the design guide's designs",
        "",
        f"Two baselines from the design guide: *{SINGLE}*, the guide's single-cluster "
        f"design, and *{LEGACY}*, the legacy two-cluster setup (separate dev and prod "
        "clusters) it describes. Both are priced by the same rules, table and profiles as "
        "this stack (pingvas_infra/tables/baselines/).",
        "",
    ]
    out += _table(COMPARISON_HEADER, comparison_rows(report), right={1, 2, 3, 4, 5})
    out += ["", "| profile | fixed | usage |", "| --- | ---: | ---: |"]
    out += [
        f"| {name} | {usd(priced.total_of('fixed'))} | {usd(priced.total_of('usage'))} |"
        for name, priced in report.this_stack.items()
    ]
    if not report.complete:
        out += [
            "",
            "Fixed and usage are the priced lines only; the totals above are unknown until "
            "every item under *Unpriced* has a price.",
        ]
    if report.missing_layers:
        out += [
            "",
            f"**Incomplete graph**: no {', '.join(report.missing_layers)} layer yet. The totals "
            "leave those layers out and are not comparable with the baseline designs.",
        ]
    out += ["", "## Targets", ""]
    comparable = not report.missing_layers
    out += [f"- {_target_text(check, comparable)}: {check.detail}" for check in targets]
    gpu = report.gpu
    out += [
        "",
        "## GPU cost per 1,000 images",
        "",
        f"{gpu.hours_per_1000:.4f} GPU-hours of {gpu.reference_instance} "
        f"({gpu.seconds_per_image:g} s per image, the design guide's measurement); "
        "all on-demand: "
        f"{usd(gpu.on_demand)}.",
        "",
    ]
    out += _table(
        ["pool", "spot share", "per 1,000 images", "of all on-demand", "spot share from"],
        [
            [
                env,
                f"{pool.spot_share:g}",
                usd(pool.usd),
                f"{pool.share_of_on_demand:.0%}",
                pool.basis,
            ]
            for env, pool in gpu.pools.items()
        ],
        right={1, 2, 3},
    )
    out += ["", "## By environment", ""]
    environments = sorted({e for p in report.this_stack.values() for e in p.by("environment")})
    out += _table(
        ["profile", *environments],
        [
            [name, *(usd(priced.by("environment").get(e, 0.0)) for e in environments)]
            for name, priced in report.this_stack.items()
        ],
        right=set(range(1, len(environments) + 1)),
    )
    for name, priced in report.this_stack.items():
        out += ["", *_design_lines(priced, f"## This stack, line by line: {name}")]
    unpriced = report.unpriced()
    out += ["## Unpriced", ""]
    out += (
        [f"- {u['layer']} / {u['type']} {u['resource']}: {u['reason']}" for u in unpriced]
        if unpriced
        else ["None: every resource is priced or known to be free."]
    )
    warnings = sorted({w for priced in report.this_stack.values() for w in priced.warnings})
    out += ["", "## Warnings", ""]
    out += [f"- {w}" for w in warnings] if warnings else ["None."]
    out += ["", "## Free resources", ""]
    out += _table(
        ["type", "count", "why free"],
        [
            [f"`{g['type']}`", str(g["count"]), str(g["reason"])]
            for g in free_summary(next(iter(report.this_stack.values())).free)
        ],
        right={1},
    )
    out += ["", "## The design guide's cost tables, reproduced", ""]
    for name, reproduction in report.reproductions.items():
        out += [
            f"**{name}** ({reproduction.source}): ${reproduction.total:,} "
            f"({'matches' if reproduction.matches else 'differs from'} the guide's "
            f"${reproduction.guide_total:,}).",
            "",
        ]
        out += _table(
            ["item", "units", "guide's unit price", "amount"],
            [
                [
                    row.item,
                    "" if row.units is None else str(row.units),
                    "" if row.unit_price is None else f"${row.unit_price}",
                    f"${row.amount:,}",
                ]
                for row in reproduction.rows
            ],
            right={1, 2, 3},
        )
        omitted = ", ".join(f"{k} {usd(v)}" for k, v in sorted(reproduction.omitted.items()))
        out += [
            "",
            f"Left out of the guide's table (this stack's prices, {REFERENCE}): {omitted}.",
            "",
        ]
    out += ["## The design guide's designs, line by line", ""]
    for name, baseline in report.baselines.items():
        out += [f"### {baseline.title} (`{name}`)", ""]
        out += [f"- {note}" for note in baseline.notes]
        out.append("")
        for profile, priced in report.baseline_costs[name].items():
            out += _design_lines(priced, f"#### {profile}: {usd(priced.total)}")
    return "\n".join(out).rstrip() + "\n"
