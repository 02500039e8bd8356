"""The facilitator's console in a real headless browser: the clock, injects, players' decisions,
need-to-know, rewind and the debrief."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tearline.console import Background
from tearline.model import RunConfig, load_scenario, resolve_scenario
from tearline.run import Exercise, read_moves

from .conftest import Console

pytestmark = pytest.mark.browser

TIMEOUT = 20_000


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    page.locator("#clock").wait_for()
    return page


def facilitator(browser: Any, server: Background) -> Any:
    return open_page(browser, f"{server.url}/f/{server.session.key}")


def agency_page(browser: Any, server: Background, agency: str) -> Any:
    return open_page(browser, f"{server.url}/a/{server.session.code_of(agency)}")


def clock(page: Any) -> str:
    return str(page.locator("#clock").inner_text())


def wait_clock_change(page: Any, before: str) -> str:
    page.wait_for_function(
        "before => document.getElementById('clock').innerText !== before", arg=before, timeout=TIMEOUT
    )
    return clock(page)


def submit(page: Any, button: str) -> str:
    """Click a button and return the server's answer as shown on the page."""
    page.evaluate("document.getElementById('message').textContent = ''")
    page.click(button)
    page.wait_for_function("document.getElementById('message').textContent !== ''")
    return str(page.locator("#message").inner_text())


def end_exercise(page: Any, timeout: float = 60_000) -> None:
    """End the exercise and wait for the debrief page. Not through :func:`submit`: the page shows the
    server's answer and leaves at once for the debrief, whose own (empty) message could be all a
    poll ever sees."""
    page.once("dialog", lambda d: d.accept())
    page.click("#end")
    page.wait_for_url("**/debrief", timeout=timeout)


def record(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "record.jsonl").read_text().splitlines()]


class TestClock:
    def test_play_pause_and_step(self, browser: Any, console: Console) -> None:
        """Play moves the clock on, pause holds it, step moves it one window on."""
        server = console()
        page = facilitator(browser, server)
        start = clock(page)
        assert start.endswith("+00:00")  # the scenario's time zone
        page.fill("input[name=speed]", "48")
        page.click("#play")
        moved = wait_clock_change(page, start)
        assert moved > start
        page.click("#pause")
        page.wait_for_function("document.getElementById('status').innerText === 'paused'")
        held = clock(page)
        time.sleep(1.5)
        page.evaluate("1")  # let any pending refresh land
        assert clock(page) == held
        assert submit(page, "#step") is not None
        assert wait_clock_change(page, held) > held
        page.close()

    def test_jump_says_the_quiet_period_it_skips(self, browser: Any, console: Console) -> None:
        """A step after a jump names the quiet period it passes over, in the scenario's time zone."""
        server = console("mumbai-2008", "as-happened")
        page = facilitator(browser, server)
        page.fill("#jump-to", "2005-08-15T12:00")
        submit(page, "#jump")
        page.wait_for_function("document.getElementById('clock').innerText.startsWith('2005-08-15 12:00')")
        assert clock(page) == "2005-08-15 12:00 +05:30"
        page.close()


class TestInjectAndDecide:
    def test_injected_lead_reaches_its_agency_page(self, browser: Any, console: Console) -> None:
        """A lead injected from the form shows, in words, on the observer's page — even while paused."""
        server = console()
        page = facilitator(browser, server)
        page.select_option("#inject-kind", "target")
        page.select_option("#inject-observer", "NSS")
        page.fill("#inject-what", "A porter reports two men photographing the hotel's service entrance")
        answer = submit(page, "#inject")
        assert "injected facilitator-1 for NSS" in answer
        nss = agency_page(browser, server, "NSS")
        lead = nss.locator("article.lead", has_text="photographing the hotel's service entrance")
        lead.wait_for()
        assert "own collection" in lead.inner_text()
        assert "venue: grand meridian hotel" in lead.inner_text()
        page.close()
        nss.close()

    def test_participant_release_enters_the_record(
        self, browser: Any, console: Console, tmp_path: Path
    ) -> None:
        """SFS's player releases its lead to NSS: NSS receives it, and the record has both the
        player's decision and the gateway's release by the desk."""
        server = console()
        page = facilitator(browser, server)
        page.fill("#jump-to", "2030-03-03T00:00")
        submit(page, "#jump")
        sfs = agency_page(browser, server, "SFS")
        lead = sfs.locator("article.lead[data-lead=who]")
        lead.wait_for()
        lead.locator("select[name=to]").select_option("NSS")
        lead.locator("button[value=release]").click()
        sfs.wait_for_function("document.getElementById('message').textContent.includes('recorded')")
        page.fill("#jump-to", "2h")  # the release takes transit time to the gateway, and on to NSS
        submit(page, "#jump")
        nss = agency_page(browser, server, "NSS")
        nss.locator("article.lead[data-lead=who]").wait_for()
        assert "from SFS" in nss.locator("article.lead[data-lead=who]").inner_text()
        end_exercise(page)
        events = record(server.session.out)
        desk = [e for e in events if e["kind"] == "desk"]
        assert [(e["agency"], e["lead"], e["action"], e["counterpart"]) for e in desk] == [
            ("SFS", "who", "release", "NSS")
        ]
        assert any(
            e["kind"] == "decision" and e["rule"] == "desk" and e["recipient"] == "NSS" and e["lead"] == "who"
            for e in events
        )
        for p in (page, sfs, nss):
            p.close()


class TestNeedToKnow:
    def test_ib_page_never_shows_what_only_mi5_holds(self, browser: Any, console: Console) -> None:
        """Under siloed, a lead injected for MI5 shows on MI5's page and never on IB's."""
        server = console("mumbai-2008", "siloed")
        page = facilitator(browser, server)
        page.fill("#jump-to", "2008-11-20T12:00")
        submit(page, "#jump")
        page.select_option("#inject-kind", "person")
        page.select_option("#inject-observer", "MI5")
        page.fill("#inject-value", "Tahir Example")
        page.fill("#inject-what", "A walk-in names Tahir Example as a courier for the Mumbai team")
        assert "injected" in submit(page, "#inject")
        page.fill("#jump-to", "3d")
        submit(page, "#jump")
        mi5 = agency_page(browser, server, "MI5")
        mi5.locator("article.lead", has_text="Tahir Example").wait_for()
        ib = agency_page(browser, server, "IB")
        ib.locator("h2", has_text="What IB holds").wait_for()
        text = ib.content()
        assert "Tahir Example" not in text and "tahir example" not in text
        assert "facilitator-1" not in text
        mi5_only = [h.lead.id for h in server.session.exercise.holdings("MI5") if h.source == "MI5"]
        assert mi5_only and not any(f'data-lead="{lead}"' in text for lead in mi5_only)
        for p in (page, mi5, ib):
            p.close()


class TestRewindAndDebrief:
    def test_rewind_and_replay_give_the_same_digest(self, browser: Any, console: Console) -> None:
        """After a rewind, the debriefed exercise has the digest of its moves replayed from scratch,
        and exercise.yaml replays it byte for byte."""
        server = console()
        page = facilitator(browser, server)
        page.fill("#jump-to", "2030-03-04T00:00")
        submit(page, "#jump")
        page.fill("#note-text", "the room asks SFS to share")
        submit(page, "#note")
        page.select_option("#policy-name", "fusion-centre")
        submit(page, "#policy")
        page.fill("#jump-to", "2030-03-08T00:00")
        submit(page, "#jump")
        page.fill("#rewind-to", "2030-03-04T00:00")
        assert "rewound to 2030-03-04 00:00 +00:00" in submit(page, "#rewind")
        end_exercise(page)  # ending opens the debrief
        digest = page.locator("#digest").inner_text()
        out = server.session.out
        moves = read_moves(out / "exercise.yaml")
        assert [m.kind for m in moves] == ["note", "policy"]
        config = RunConfig(
            scenario=load_scenario(resolve_scenario("connect-the-dots")), policy="siloed", seed=1
        )

        async def again() -> tuple[str, bytes]:
            ex = await Exercise.replay(config, moves)
            result = await ex.debrief()
            return result.digest, result.record

        with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
            replayed, record_bytes = pool.submit(asyncio.run, again()).result()
        assert replayed == digest
        assert record_bytes == (out / "record.jsonl").read_bytes()
        # fusion-centre from day 3 on connects the dots in time
        assert "DISRUPTED" in page.locator("#outcomes").inner_text()
        page.close()


@pytest.mark.kafka
class TestOnKafka:
    def test_a_policy_change_on_kafka_lands_in_the_record_and_rewind_replays_it(
        self, browser: Any, kafka_bootstrap: str, tmp_path: Path
    ) -> None:
        """``serve --transport kafka``: the facilitator's policy change travels to the gateway over the
        broker and is in the record; after a rewind the debrief's record is the in-process replay's,
        byte for byte."""
        from tearline.broker import kafka_transport
        from tearline.console import Session

        config = RunConfig(
            scenario=load_scenario(resolve_scenario("connect-the-dots")), policy="siloed", seed=1
        )
        session = Session(config, tmp_path / "run", connect=lambda: kafka_transport(kafka_bootstrap))
        with Background(session, timeout=120) as server:
            page = facilitator(browser, server)
            page.set_default_timeout(120_000)
            page.fill("#jump-to", "2030-03-04T00:00")
            submit(page, "#jump")
            page.select_option("#policy-name", "fusion-centre")
            assert "fusion-centre" in submit(page, "#policy")
            page.fill("#jump-to", "2030-03-06T00:00")
            submit(page, "#jump")
            page.fill("#rewind-to", "2030-03-05T00:00")
            assert "rewound to 2030-03-05 00:00 +00:00" in submit(page, "#rewind")
            end_exercise(page, timeout=300_000)
            digest = page.locator("#digest").inner_text()
            outcomes = page.locator("#outcomes").inner_text()
            page.close()
        out = session.out
        assert json.loads((out / "summary.json").read_text())["transport"] == "kafka"
        policies = [(e["by"], e["policy"], e["previous"]) for e in record(out) if e["kind"] == "policy"]
        assert policies == [("GATEWAY", "fusion-centre", "siloed")]
        moves = read_moves(out / "exercise.yaml")
        assert [m.kind for m in moves] == ["policy"]

        async def again() -> tuple[str, bytes]:
            ex = await Exercise.replay(config, moves)
            result = await ex.debrief()
            return result.digest, result.record

        with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
            replayed, record_bytes = pool.submit(asyncio.run, again()).result()
        assert replayed == digest
        assert record_bytes == (out / "record.jsonl").read_bytes()
        assert "DISRUPTED" in outcomes  # fusion-centre from day 3 on connects the dots in time
