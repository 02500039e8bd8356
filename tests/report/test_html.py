"""The HTML after-action report: self-contained, and it renders in headless Chromium."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tearline import RunConfig, Scenario, replay
from tearline.cli import app

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
runner = CliRunner(env={"COLUMNS": "240"})


@pytest.fixture(scope="module")
def report(teaching: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("run")
    asyncio.run(replay(RunConfig(scenario=teaching, policy="fusion-centre", seed=1))).write(run_dir)
    r = runner.invoke(app, ["report", str(run_dir)])
    assert r.exit_code == 0, r.output
    return run_dir / "report.html"


class TestSelfContained:
    def test_no_external_fetches(self, report: Path) -> None:
        """The page names no external resource: no src/href to http(s), no @import, a CSP of 'none'."""
        text = report.read_text()
        assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", text)
        assert "@import" not in text
        assert "default-src 'none'" in text

    def test_holds_outcomes_timeline_graph_and_hseep(self, report: Path) -> None:
        """One page holds the outcome, a lane per agency, the sharing graph and HSEEP's two headings."""
        text = report.read_text()
        for needle in ("DISRUPTED", "id='timeline'", "id='graph'", "Strengths", "Areas for improvement"):
            assert needle in text
        for agency in ("NSS", "NSIG", "SFS"):
            assert f">{agency}</text>" in text

    def test_the_timeline_shows_what_the_order_did(self, report: Path) -> None:
        """Who the order removed, and the place it guarded, each a mark in the acting agency's lane."""
        text = report.read_text()
        assert "NSS on case NSS-c8: karim-vale in XN — arrested" in text
        assert "NSS guards venue:grand meridian hotel until 2030-03-16 23:59" in text

    def test_a_partial_disruption_is_a_strength(self, tmp_path: Path) -> None:
        """Paris under fusion-centre: the Greek police's arrest of Abaaoud is a strength, and the
        terrace attack that went ahead without him is not counted a disruption."""
        from tearline import load_scenario

        run_dir = tmp_path / "paris"
        config = RunConfig(
            scenario=load_scenario(ROOT / "scenarios" / "paris-2015.yaml"), policy="fusion-centre", seed=1
        )
        asyncio.run(replay(config)).write(run_dir)
        assert runner.invoke(app, ["report", str(run_dir)]).exit_code == 0
        text = (run_dir / "report.html").read_text()
        assert "GR-POLICE removed abdelhamid-abaaoud before Shootings on the cafe terraces" in text
        assert "abdelhamid-abaaoud in GR — arrested" in text

    def test_not_a_run_directory_is_a_clear_error(self, tmp_path: Path) -> None:
        """A directory with no record gets exit 2 and a hint, not a traceback."""
        r = runner.invoke(app, ["report", str(tmp_path)])
        assert r.exit_code == 2
        assert "record.jsonl" in r.output


@pytest.mark.browser
class TestInChromium:
    def test_timeline_and_graph_render_without_console_errors(self, report: Path) -> None:
        """Headless Chromium draws a non-empty timeline and graph, logs no console error; a screenshot is taken."""
        if not CHROMIUM.exists():
            pytest.fail("Debian's chromium is missing: run scripts/chromium (make test does)")
        from playwright.sync_api import sync_playwright

        errors: list[str] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1320, "height": 900})
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                requests: list[str] = []
                page.on("request", lambda r: requests.append(r.url))
                page.goto(report.as_uri())
                sizes = page.evaluate(
                    """['timeline', 'graph'].map(id => {
                        const svg = document.getElementById(id); const box = svg.getBoundingClientRect();
                        return [box.width, box.height, svg.querySelectorAll('[data-tip]').length]; })"""
                )
                page.locator("#graph circle").first.dispatch_event("mousemove")
                tip_shown = page.evaluate("getComputedStyle(document.getElementById('tip')).display")
                shot = report.parent / "report.png"
                page.screenshot(path=str(shot), full_page=True)
            finally:
                browser.close()
        assert errors == []
        assert requests == [report.as_uri()]
        for width, height, marks in sizes:
            assert width > 100 and height > 100 and marks > 0
        assert tip_shown == "block"
        assert shot.stat().st_size > 10_000


class TestResearchView:
    def test_compare_directory_gets_tables_and_plot(self, tmp_path: Path) -> None:
        """report on a compare directory shows the rates with their intervals and the plot, inline."""
        out = tmp_path / "cmp"
        r = runner.invoke(
            app,
            ["compare", "connect-the-dots", "-p", "siloed", "-p", "fusion-centre", "--runs", "2", "--jobs", "1",
             "--no-cache", "--out", str(out)],
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        assert "[" in r.output and "Against siloed" in r.output
        r = runner.invoke(app, ["report", str(out)])
        assert r.exit_code == 0, r.output
        text = (out / "report.html").read_text()
        assert "Disruption and warning, with 95 % intervals" in text
        assert "Against the first policy" in text
        assert text.count("<svg") >= 1 and "fusion-centre" in text
        assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", text)
