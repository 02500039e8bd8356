"""The after-action report: one self-contained HTML page (inline CSS, SVG and a little script; no
fetches) for a run directory — a lane per agency, the sharing graph, each plot's outcome, the
critical links when computed, strengths and areas for improvement in HSEEP's terms — and the
research view of a ``compare``, ``links`` or ``sweep`` directory."""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tearline.model import (
    ActionEvent,
    CaseEvent,
    ConsentEvent,
    DecisionEvent,
    EffectEvent,
    Event,
    InjectEvent,
    ProtectionEvent,
    Scenario,
    human_duration,
    local,
)

from ._judge import Summary

Row = dict[str, Any]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1280px;color:#1d232a;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ccd;padding-bottom:4px}
.meta{color:#556;font-size:13px}.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-weight:600;font-size:12px}
.disrupted{background:#d6f5dd;color:#145c2b}.attack{background:#fbdada;color:#8a1616}.other{background:#eee;color:#333}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}td,th{border-bottom:1px solid #e3e6ea;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
svg{background:#fbfcfd;border:1px solid #e3e6ea;border-radius:6px}.legend span{margin-right:14px;font-size:12px}
.hseep h3{font-size:15px;margin:14px 0 4px}.hseep p{margin:2px 0 6px}#tip{position:fixed;pointer-events:none;background:#1d232a;color:#fff;
padding:4px 8px;border-radius:4px;font-size:12px;max-width:520px;display:none;z-index:9}
"""

_SCRIPT = """
(function(){var tip=document.getElementById('tip');
document.querySelectorAll('[data-tip]').forEach(function(el){
el.addEventListener('mousemove',function(ev){tip.textContent=el.getAttribute('data-tip');tip.style.display='block';
tip.style.left=(ev.clientX+12)+'px';tip.style.top=(ev.clientY+12)+'px';});
el.addEventListener('mouseleave',function(){tip.style.display='none';});});
var n=document.querySelectorAll('#timeline [data-tip]').length,g=document.querySelectorAll('#graph [data-tip]').length;
document.body.setAttribute('data-marks',n+' '+g);})();
"""

_COLOURS = {"observe": "#2b6cb0", "release": "#2f855a", "withhold": "#c53030", "consent": "#b7791f",
            "case": "#6b46c1", "interdict": "#d53f8c", "warn": "#dd6b20", "removed": "#22543d",
            "missed": "#718096", "guard": "#2c7a7b"}  # fmt: skip


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>{body}<div id='tip'></div>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def _badge(result: str) -> str:
    cls = result if result in ("disrupted", "attack") else "other"
    return f"<span class='badge {cls}'>{_e(result.upper())}</span>"


def _table(rows: Sequence[Row], columns: Sequence[tuple[str, str]]) -> str:
    head = "".join(f"<th>{_e(label)}</th>" for label, _ in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='n'>{_e(_fmt(r.get(key)))}</td>"
            if isinstance(r.get(key), int | float) and not isinstance(r.get(key), bool)
            else f"<td>{_e(_fmt(r.get(key)))}</td>"
            for _, key in columns
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _timeline_svg(scenario: Scenario, events: Sequence[Event], agencies: Sequence[str]) -> str:
    """A lane per agency; x is the ordinal of each distinct day with activity (so years of quiet and
    the last week's rush are both readable), with dates on the axis."""
    noise = {e.lead for e in events if isinstance(e, InjectEvent) and e.noise}
    shown = [e for e in events if getattr(e, "lead", None) not in noise]
    marks: list[tuple[int, str, str, str, str | None]] = []  # at, agency, kind, tip, to-agency
    for e in shown:
        if isinstance(e, InjectEvent):
            marks.append((e.at, e.observer, "observe", f"{e.observer} observes: {e.what}", None))
        elif isinstance(e, DecisionEvent):
            if e.action == "release":
                delay = f" after {human_duration(e.delay)}" if e.delay else ""
                tip = f"release {e.lead} {e.sender}→{e.recipient}{delay}: {e.reason}"
                marks.append((e.at, e.sender, "release", tip, e.recipient))
            else:
                marks.append(
                    (
                        e.at,
                        e.sender,
                        "withhold",
                        f"withhold {e.lead} {e.sender}→{e.recipient}: {e.reason}",
                        None,
                    )
                )
        elif isinstance(e, ConsentEvent) and e.step == "request":
            tip = f"{e.sender} asks {e.originator} to release {e.lead} to {e.recipient}"
            marks.append((e.at, e.originator, "consent", tip, None))
        elif isinstance(e, CaseEvent) and e.actionable:
            tip = f"{e.agency} case {e.case} actionable: {'+'.join(e.facets)}, score {e.score:.2f}"
            marks.append((e.at, e.agency, "case", tip, None))
        elif isinstance(e, ActionEvent):
            marks.append((e.at, e.agency, e.action, f"{e.agency} {e.action}s on case {e.case}", None))
        elif isinstance(e, EffectEvent):
            kind = "removed" if e.result in ("arrested", "intercepted") else "missed"
            where = f" in {e.where}" if e.where else ""
            marks.append(
                (e.at, e.agency, kind, f"{e.agency} on case {e.case}: {e.actor}{where} — {e.result}", None)
            )
        elif isinstance(e, ProtectionEvent):
            tip = f"{e.agency} guards {e.place} until {local(e.end, scenario.timezone)}"
            marks.append((e.at, e.agency, "guard", tip, None))
    attacks = [(p.attack_at, p.name) for p in scenario.plots]
    days = sorted({t // 86400 for t, *_ in marks} | {t // 86400 for t, _ in attacks})
    index = {d: i for i, d in enumerate(days)}
    lanes = {a: i for i, a in enumerate(agencies)}
    left, top, lane_h, step = 120, 30, 26, max(6.0, min(40.0, 1000 / max(1, len(days))))
    width = int(left + step * (len(days) + 1) + 180)
    height = top + lane_h * len(agencies) + 40

    def x(t: int) -> float:
        return left + step * (index[t // 86400] + (t % 86400) / 86400)

    def y(a: str) -> float:
        return top + lane_h * lanes[a] + lane_h / 2

    out = [f"<svg id='timeline' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
           f"aria-label='timeline: a lane per agency'>"]  # fmt: skip
    for a, i in lanes.items():
        fill = "#f1f4f8" if i % 2 == 0 else "#fbfcfd"
        out.append(f"<rect x='0' y='{top + lane_h * i}' width='{width}' height='{lane_h}' fill='{fill}'/>")
        out.append(f"<text x='8' y='{y(a) + 4}' font-size='12' font-weight='600'>{_e(a)}</text>")
    last_label = -1e9
    for d in days:
        px = left + step * index[d]
        if px - last_label > 70:
            out.append(f"<text x='{px:.1f}' y='{top - 10}' font-size='10' fill='#556'>"
                       f"{_e(local(d * 86400, scenario.timezone)[:10])}</text>")  # fmt: skip
            out.append(f"<line x1='{px:.1f}' x2='{px:.1f}' y1='{top}' y2='{height - 40}' stroke='#e3e6ea'/>")
            last_label = px
    for t, name in attacks:
        out.append(f"<line x1='{x(t):.1f}' x2='{x(t):.1f}' y1='{top}' y2='{height - 30}' stroke='#c53030' "
                   f"stroke-width='2' stroke-dasharray='4 3' data-tip='{_e('attack: ' + name + ' at ' + local(t, scenario.timezone))}'/>")  # fmt: skip
        out.append(
            f"<text x='{x(t) + 3:.1f}' y='{height - 18}' font-size='11' fill='#c53030'>{_e(name[:40])}</text>"
        )
    for t, a, kind, tip, to in marks:
        if a not in lanes:
            continue
        c, px, py = _COLOURS[kind], x(t), y(a)
        tip_attr = _e(f"{local(t, scenario.timezone)} — {tip}")
        if kind == "release" and to in lanes:
            out.append(f"<line x1='{px:.1f}' y1='{py:.1f}' x2='{px + 3:.1f}' y2='{y(to):.1f}' stroke='{c}' "
                       f"stroke-opacity='0.55' stroke-width='1.4' data-tip='{tip_attr}'/>")  # fmt: skip
            out.append(
                f"<circle cx='{px + 3:.1f}' cy='{y(to):.1f}' r='2.5' fill='{c}' data-tip='{tip_attr}'/>"
            )
        elif kind == "withhold":
            out.append(f"<path d='M{px - 3:.1f},{py - 3:.1f}l6,6m0,-6l-6,6' stroke='{c}' stroke-width='1.6' "
                       f"data-tip='{tip_attr}'/>")  # fmt: skip
        elif kind in ("interdict", "warn"):
            out.append(f"<polygon points='{px:.1f},{py - 8:.1f} {px + 7:.1f},{py + 5:.1f} {px - 7:.1f},{py + 5:.1f}' "
                       f"fill='{c}' data-tip='{tip_attr}'/>")  # fmt: skip
        elif kind == "guard":
            out.append(f"<rect x='{px:.1f}' y='{py - 2:.1f}' width='12' height='4' fill='{c}' "
                       f"data-tip='{tip_attr}'/>")  # fmt: skip
        elif kind == "case":
            out.append(
                f"<rect x='{px - 4:.1f}' y='{py - 4:.1f}' width='8' height='8' fill='{c}' data-tip='{tip_attr}'/>"
            )
        else:
            r = 5 if kind == "observe" else 3.5
            out.append(f"<circle cx='{px:.1f}' cy='{py:.1f}' r='{r}' fill='{c}' data-tip='{tip_attr}'/>")
    out.append("</svg>")
    return "".join(out)


def _graph_svg(events: Sequence[Event], agencies: Sequence[str]) -> str:
    """Agencies on a circle; an edge per direction, its width the leads released (green) or withheld
    (red, dashed) on it. Real leads only; background noise is counted in each edge's tip."""
    noise = {e.lead for e in events if isinstance(e, InjectEvent) and e.noise}
    real: Counter[tuple[str, str, str]] = Counter()
    background: Counter[tuple[str, str, str]] = Counter()
    for e in events:
        if isinstance(e, DecisionEvent):
            (background if e.lead in noise else real)[(e.sender, e.recipient, e.action)] += 1
    size, r = 620, 240
    cx = cy = size / 2
    pos = {
        a: (cx + r * math.cos(2 * math.pi * i / len(agencies) - math.pi / 2),
            cy + r * math.sin(2 * math.pi * i / len(agencies) - math.pi / 2))
        for i, a in enumerate(agencies)
    }  # fmt: skip
    out = [f"<svg id='graph' xmlns='http://www.w3.org/2000/svg' width='{size}' height='{size}' role='img' "
           "aria-label='sharing graph'><defs><marker id='arr' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='5' "
           "markerHeight='5' orient='auto'><path d='M0,0L10,5L0,10z' fill='#555'/></marker></defs>"]  # fmt: skip
    edges = sorted({(s, t, a) for s, t, a in real} | {(s, t, a) for s, t, a in background})
    for s, t, action in edges:
        if s not in pos or t not in pos or action not in ("release", "withhold"):
            continue
        n, bg = real[(s, t, action)], background[(s, t, action)]
        (x1, y1), (x2, y2) = pos[s], pos[t]
        mx, my = (
            (x1 + x2) / 2 + (y2 - y1) * 0.12,
            (y1 + y2) / 2 - (x2 - x1) * 0.12,
        )  # bend: two directions apart
        width = 0.6 + 1.6 * math.log1p(n)
        colour, dash = ("#2f855a", "") if action == "release" else ("#c53030", " stroke-dasharray='5 4'")
        tip = _e(
            f"{s}→{t}: {n} lead(s) {'released' if action == 'release' else 'withheld'}, plus {bg} background"
        )
        opacity = 0.85 if n else 0.18
        out.append(f"<path d='M{x1:.1f},{y1:.1f} Q{mx:.1f},{my:.1f} {x2:.1f},{y2:.1f}' fill='none' stroke='{colour}' "
                   f"stroke-width='{width:.2f}' stroke-opacity='{opacity}'{dash} marker-end='url(#arr)' data-tip='{tip}'/>")  # fmt: skip
    for a, (px, py) in pos.items():
        sent = sum(n for (s, _, act), n in real.items() if s == a and act == "release")
        got = sum(n for (_, t, act), n in real.items() if t == a and act == "release")
        tip = _e(f"{a}: released {sent} lead(s), received {got}")
        out.append(
            f"<circle cx='{px:.1f}' cy='{py:.1f}' r='20' fill='#fff' stroke='#2b6cb0' stroke-width='2' data-tip='{tip}'/>"
        )
        out.append(
            f"<text x='{px:.1f}' y='{py + 4:.1f}' font-size='10' text-anchor='middle' font-weight='600'>{_e(a[:9])}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _hseep(scenario: Scenario, summary: Summary, events: Sequence[Event], links: Sequence[Row]) -> str:
    """Strengths and areas for improvement, each with an observation, its analysis and (for areas)
    a recommendation — the HSEEP after-action report's structure — drawn from the record alone."""
    plots = {p.id: p for p in scenario.plots}
    noise = {e.lead for e in events if isinstance(e, InjectEvent) and e.noise}
    strengths: list[tuple[str, str]] = []
    areas: list[tuple[str, str, str]] = []
    for o in summary.outcomes:
        if o.result == "disrupted":
            cases = [
                e
                for e in events
                if isinstance(e, ActionEvent) and e.agency == o.disrupted_by and e.at == o.disrupted_at
            ]
            strengths.append(
                (f"{o.disrupted_by} disrupted {o.name} {o.warning_hours:g} h before the attack.",
                 f"Its case ({cases[0].case if cases else 'on the record'}) held what the plot needed "
                 f"({', '.join(plots[o.plot].needs)}) and it could act where the plot was.")
            )  # fmt: skip
            continue
        if o.result == "partly-disrupted":
            done = [f"removed {', '.join(o.removed)}"] if o.removed else []
            done += [f"guarded {', '.join(o.protected)}"] if o.protected else []
            strengths.append(
                (f"{o.disrupted_by} {' and '.join(done)} before {o.name}.",
                 "The attack still went ahead: the rest of the team was not reached in time.")
            )  # fmt: skip
        if o.detected_by:
            areas.append(
                (f"{o.detected_by} held enough to recognise {o.name} {o.detection_hours_before:g} h before the attack, "
                 "and nobody disrupted it.",
                 f"The case met the plot's needs but {o.detected_by} either could not act in "
                 f"{', '.join(plots[o.plot].jurisdiction)} or did not reach its own threshold to act.",
                 f"Route what {o.detected_by} holds to an agency that can act there, or review its threshold to act.")
            )  # fmt: skip
        else:
            areas.append(
                (f"{o.name}: no agency ever held a case with the plot's {', '.join(plots[o.plot].needs)}.",
                 "The fragments stayed with different agencies.",
                 "See the critical links below (tearline links) for the releases that would have joined them.")
            )  # fmt: skip
        relevant = [
            e
            for e in events
            if isinstance(e, DecisionEvent) and e.action == "withhold" and e.lead not in noise
        ]
        reasons = Counter(e.reason for e in relevant)
        if reasons:
            reason, n = reasons.most_common(1)[0]
            areas.append(
                (f"{len(relevant)} withholdings of real leads; the most common reason ({n}): {reason}",
                 "Each withholding followed the sharing policy; the policy, not an analyst, kept the leads apart.",
                 "Review the rule behind that reason against the critical links.")
            )  # fmt: skip
    for link in [r for r in links if r.get("flips")][:3]:
        areas.append(
            (f"Critical link for {link['plot']}: {link['link']} flips the outcome in {link['flips']} of {link['seeds']} seeds.",
             f"Facts it rests on: {link['facts'] or 'none cited'}.",
             "Make this release routine (or this withholding a rule) and test it in the next exercise.")
        )  # fmt: skip
    busiest = max(summary.load, key=lambda a: a.max_backlog, default=None)
    if busiest is not None and busiest.max_backlog >= 20:
        areas.append(
            (f"{busiest.agency}'s triage queue peaked at {busiest.max_backlog} leads (mean wait {busiest.mean_wait_hours:g} h).",
             "Sharing is not free: every partner's background reporting lands in the same queue.",
             "Raise triage capacity where sharing grows, or filter background reporting before release.")
        )  # fmt: skip
    elif busiest is not None:
        strengths.append(
            (
                f"Triage kept up: no queue ever held more than {busiest.max_backlog} unread lead(s).",
                "Analysts read what they received in time.",
            )
        )
    body = ["<div class='hseep'><h3>Strengths</h3>"]
    body += [
        f"<p><b>Strength {i}:</b> {_e(obs)}<br><i>Analysis:</i> {_e(an)}</p>"
        for i, (obs, an) in enumerate(strengths, 1)
    ] or ["<p>None recorded.</p>"]
    body.append("<h3>Areas for improvement</h3>")
    body += [
        f"<p><b>Area for improvement {i}:</b> {_e(obs)}<br><i>Analysis:</i> {_e(an)}<br><i>Recommendation:</i> {_e(rec)}</p>"
        for i, (obs, an, rec) in enumerate(areas, 1)
    ] or ["<p>None recorded.</p>"]
    body.append("</div>")
    return "".join(body)


def run_report(
    scenario: Scenario, summary: Summary, events: Sequence[Event], links: Sequence[Row] = ()
) -> str:
    """The after-action report of one run as a self-contained HTML page."""
    agencies = list(summary.agencies)
    outcomes = "".join(
        f"<tr><td>{_e(o.name)}</td><td>{_badge(o.result)}</td><td>{_e(o.disrupted_by or '–')}</td>"
        f"<td class='n'>{_e(_fmt(o.warning_hours))}</td><td>{_e(o.detected_by or '–')}</td>"
        f"<td class='n'>{_e(_fmt(o.detection_hours_before))}</td></tr>"
        for o in summary.outcomes
    )
    legend = "".join(f"<span style='color:{c}'>■ {k}</span>" for k, c in _COLOURS.items())
    links_html = ""
    if links:
        links_html = "<h2>Critical links</h2>" + _table(
            [r for r in links if r.get("rank", 99) <= 10],
            [("plot", "plot"), ("rank", "rank"), ("link", "link"), ("flips", "flips"), ("seeds", "seeds"),
             ("flip p", "flip_probability"), ("low", "flip_probability_low"), ("high", "flip_probability_high"),
             ("Δ warning h", "warning_change_hours"), ("facts", "facts"), ("uncertain", "uncertain")],
        )  # fmt: skip
    body = (
        f"<h1>After-action report: {_e(scenario.title)}</h1>"
        f"<div class='meta'>policy <b>{_e(summary.policy)}</b> · seed {summary.seed} · run {_e(summary.run_id)} · "
        f"digest {_e(summary.digest[:16])}… · released {summary.released} · withheld {summary.withheld} · "
        f"exposure {summary.exposure:g}</div>"
        "<h2>Outcomes</h2><table><thead><tr><th>plot</th><th>outcome</th><th>disrupted by</th><th>warning h</th>"
        f"<th>detected by</th><th>detected h before</th></tr></thead><tbody>{outcomes}</tbody></table>"
        f"<h2>Who knew what when</h2><div class='legend'>{legend}<span style='color:#c53030'>┆ attack</span></div>"
        f"<div style='overflow-x:auto'>{_timeline_svg(scenario, events, agencies)}</div>"
        f"<h2>Sharing graph</h2><div class='legend'><span style='color:#2f855a'>— released</span>"
        f"<span style='color:#c53030'>- - withheld</span><span>width: leads (log scale)</span></div>"
        f"{_graph_svg(events, agencies)}"
        f"{links_html}<h2>Strengths and areas for improvement</h2>{_hseep(scenario, summary, events, links)}"
    )
    return _page(f"After-action report: {scenario.title}", body)


_RESEARCH_TABLES: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "compare": [
        ("Disruption and warning, with 95 % intervals", [
            ("policy", "policy"), ("plot", "plot"), ("runs", "runs"), ("disrupted", "disruption_rate"),
            ("low", "disruption_rate_low"), ("high", "disruption_rate_high"), ("warning h", "warning_hours"),
            ("low", "warning_hours_low"), ("high", "warning_hours_high"), ("triage wait h", "wait_hours"),
            ("released", "released"), ("exposure", "exposure")]),
        ("Against the first policy", [
            ("policy", "policy"), ("plot", "plot"), ("Δ disrupted", "rate_difference"),
            ("low", "rate_difference_low"), ("high", "rate_difference_high"), ("Δ warning h", "warning_difference"),
            ("low", "warning_difference_low"), ("high", "warning_difference_high")]),
    ],
    "links": [("Critical links", [
        ("plot", "plot"), ("rank", "rank"), ("link", "link"), ("flips", "flips"), ("seeds", "seeds"),
        ("flip p", "flip_probability"), ("low", "flip_probability_low"), ("high", "flip_probability_high"),
        ("Δ warning h", "warning_change_hours"), ("facts", "facts"), ("uncertain", "uncertain")])],
    "sweep": [("What moves each outcome most", [
        ("policy", "policy"), ("outcome", "outcome"), ("parameter", "parameter"), ("swing", "swing"),
        ("low", "low"), ("at", "low_at"), ("high", "high"), ("at", "high_at")])],
}  # fmt: skip


def research_report(meta: dict[str, Any], tables: dict[str, list[Row]], directory: Path) -> str:
    """The research view of a compare, links or sweep directory: its tables and plots (inline SVG)."""
    kind = meta["kind"]
    names = {"compare": ["aggregate", "differences"], "links": ["links"], "sweep": ["sensitivity"]}[kind]
    parts = [f"<h1>{_e(meta.get('title', meta.get('scenario', '')))}: {_e(kind)}</h1>",
             f"<div class='meta'>{_e(', '.join(f'{k} {v}' for k, v in sorted(meta.items()) if k not in ('title', 'design')))}</div>"]  # fmt: skip
    for svg in ("comparison.svg", "tornado.svg"):
        if (directory / svg).is_file():
            text = (directory / svg).read_text()
            parts.append(f"<h2>{'Rates and warning' if svg.startswith('comparison') else 'Tornado'}</h2>")
            parts.append(text[text.index("<svg") :])
    for (title, columns), name in zip(_RESEARCH_TABLES[kind], names, strict=True):
        rows = tables.get(name, [])
        if kind == "links":
            rows = [r for r in rows if r.get("rank", 99) <= 15]
        parts.append(f"<h2>{_e(title)}</h2>{_table(rows, columns)}")
    if kind == "sweep" and tables.get("points"):
        cols = [k for k in tables["points"][0] if k.startswith("p:")]
        parts.append("<h2>Points</h2>" + _table(tables["points"], [("policy", "policy"), *((c[2:], c) for c in cols),
                     ("plot", "plot"), ("disrupted", "disruption_rate"), ("low", "disruption_rate_low"),
                     ("high", "disruption_rate_high"), ("warning h", "warning_hours"), ("triage wait h", "wait_hours")]))  # fmt: skip
    return _page(f"{meta.get('title', '')}: {kind}", "".join(parts))


def write_html(text: str, path: Path) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
