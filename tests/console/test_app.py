"""The console's routes without a browser: who may see what, and bad input answered in words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tearline import RunConfig, Scenario
from tearline.console import Session, create_app


@pytest.fixture
def room(teaching: Scenario, tmp_path: Path) -> Iterator[tuple[TestClient, Session]]:
    session = Session(RunConfig(scenario=teaching, policy="siloed", seed=1), tmp_path / "run")
    with TestClient(create_app(session)) as client:
        yield client, session


class TestWhoSeesWhat:
    def test_codes_open_only_their_own_pages(self, room: tuple[TestClient, Session]) -> None:
        """A wrong key or code is 404; an agency's code does not open the facilitator's controls."""
        client, session = room
        assert client.get("/f/wrong").status_code == 404
        assert client.get("/a/wrong/state").status_code == 404
        code = session.code_of("NSS")
        assert client.get(f"/a/{code}").status_code == 200
        assert client.get(f"/f/{code}").status_code == 404
        assert client.post(f"/f/{code}/do/step").status_code == 404
        assert client.get(f"/f/{session.key}").status_code == 200

    def test_agency_state_holds_only_its_own_leads(self, room: tuple[TestClient, Session]) -> None:
        """Once every fragment is observed, each agency's page names its own lead and no other's."""
        client, session = room
        assert client.post(f"/f/{session.key}/do/jump", data={"to": "2030-03-11T00:00"}).json()["ok"]
        own = {"SFS": "who", "NSIG": "what", "NSS": "when"}
        for agency, lead in own.items():
            page = client.get(f"/a/{session.code_of(agency)}/state").text
            assert f'data-lead="{lead}"' in page
            for other in set(own.values()) - {lead}:
                assert f'data-lead="{other}"' not in page, (agency, other)


class TestBadInput:
    def test_errors_are_sentences_not_tracebacks(self, room: tuple[TestClient, Session]) -> None:
        """A bad time, observer, grading, policy or decision is a 400 with a message; the exercise goes on."""
        client, session = room
        f = f"/f/{session.key}/do"
        cases = [
            (f"{f}/jump", {"to": "yesterday"}, "date-time"),
            (f"{f}/inject", {"kind": "person", "observer": "MI6"}, "no agency"),
            (f"{f}/inject", {"kind": "person", "observer": "NSS", "grading": "Z9"}, "grading"),
            (f"{f}/policy", {"policy": "nope"}, "unknown policy"),
            (f"{f}/rewind", {"to": "2031-01-01T00:00"}, "after the exercise clock"),
            (
                f"/a/{session.code_of('NSS')}/decide",
                {"action": "release", "lead": "who", "to": "SFS"},
                "does not hold",
            ),
            (
                f"/a/{session.code_of('NSS')}/decide",
                {"action": "shred", "lead": "who", "to": "SFS"},
                "no decision",
            ),
        ]
        for url, form, said in cases:
            answer = client.post(url, data=form)
            assert answer.status_code == 400, url
            assert said in answer.json()["message"], (url, answer.json())
        assert session.exercise.moves == []
        assert client.post(f"{f}/step").json()["ok"]


class TestRequestButton:
    def test_a_players_request_reaches_the_other_desk(self, room: tuple[TestClient, Session]) -> None:
        """The "request" button sends a real request: the asked agency's page lists it under "Asked of
        you", with the selectors asked about."""
        client, session = room
        f = f"/f/{session.key}/do"
        assert client.post(f"{f}/jump", data={"to": "2030-03-11T00:00"}).json()["ok"]
        said = client.post(
            f"/a/{session.code_of('NSS')}/decide", data={"action": "request", "lead": "when", "to": "SFS"}
        ).json()
        assert said["ok"] and "request sent" in said["message"]
        assert client.post(f"{f}/step").json()["ok"]
        page = client.get(f"/a/{session.code_of('SFS')}/state").text
        assert "<b>NSS</b> asks what you hold on <i>venue:grand meridian hotel" in page
