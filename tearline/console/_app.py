"""The web console: a Starlette app over one :class:`Session`, server-rendered pages and server-sent
events that tell each page when the exercise has changed (the page then fetches its own state).

Routes: ``/f/KEY`` is the facilitator's (the key is printed when the server starts), ``/a/CODE`` an
agency's (one join code per agency). A code opens its own agency's page and nothing else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tearline.model import DAY, Inject, TearlineError, parse_duration, parse_time, validate
from tearline.policies import available

from ._session import Session, friendly
from ._views import choices, participant, sharing_graph, timeline

HERE = Path(__file__).resolve().parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True
)

LEAD_KINDS: dict[str, dict[str, Any]] = {
    "person": {
        "label": "a person (who)",
        "identifier": "person",
        "indicator": "intent",
        "value": "Karim Vale",
        "what": "A source names Karim Vale as a trained operative",
    },
    "selector": {
        "label": "a phone or e-mail selector",
        "identifier": "phone",
        "indicator": "comms",
        "value": "+92 300 0000000",
        "what": "An intercepted number calls a known handler",
    },
    "vessel": {
        "label": "a vessel or vehicle",
        "identifier": "vessel",
        "indicator": "travel",
        "value": "MV Example",
        "what": "A vessel of interest sails towards the coast",
    },
    "target": {
        "label": "a place (target)",
        "identifier": "venue",
        "indicator": "target",
        "value": "Grand Meridian Hotel",
        "what": "Reconnaissance of a hotel is reported",
    },
    "timing": {
        "label": "a date (timing)",
        "identifier": "venue",
        "indicator": "timing",
        "value": "Grand Meridian Hotel",
        "what": "Block bookings at the hotel for three days",
    },
}
"""The facilitator's inject templates, one per kind of lead, with defaults filled in."""


def render(template: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(template).render(**context))


def create_app(session: Session) -> Starlette:
    """The console for one session (started and closed with the app)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await session.start()
        try:
            yield
        finally:
            await session.close()

    def facilitator_only(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            if request.path_params["key"] != session.key:
                return HTMLResponse("no such exercise", status_code=404)
            return await handler(request)

        return guarded

    def agency_of(request: Request) -> str | None:
        return session.agency_of(request.path_params["code"])

    def when(text: str) -> int:
        """A time the facilitator typed: a duration from now (6h, 2d), or a date-time in the
        scenario's time zone (with or without its offset)."""
        text = text.strip()
        if not text:
            raise ValueError("give a time (2008-11-26T12:00) or a duration (6h, 2d)")
        try:
            return session.exercise.clock + parse_duration(text)
        except ValueError:
            pass
        tz = session.exercise.run.scenario.timezone
        has_offset = text.endswith("Z") or (len(text) > 16 and text[-6] in "+-")
        return parse_time(text if has_offset else f"{text}{tz}")

    async def act(step: Callable[[], Awaitable[str | None]], then: str | None = None) -> JSONResponse:
        try:
            said = await step()
        except (TearlineError, ValueError, KeyError) as exc:
            return JSONResponse({"ok": False, "message": friendly(exc)}, status_code=400)
        answer: dict[str, object] = {"ok": True, "message": said or session.message}
        if then is not None:
            answer["redirect"] = then
        return JSONResponse(answer)

    # -- facilitator -----------------------------------------------------------------------
    async def facilitator(request: Request) -> Response:
        ex = session.exercise
        return render(
            "facilitator.html",
            s=session,
            scenario=ex.run.scenario,
            base=f"/f/{session.key}",
            agencies=list(ex.agencies),
            names={a: ex.agencies[a].agency.name for a in ex.agencies},
            links={a: f"/a/{session.code_of(a)}" for a in ex.agencies},
            policies=[p.name for p in available()],
            kinds=LEAD_KINDS,
        )

    async def facilitator_state(request: Request) -> Response:
        events = await session.events()
        ex = session.exercise
        nodes, edges = sharing_graph(ex, events)
        views = {a: ex.view(a) for a in ex.agencies}
        return render(
            "facilitator_state.html",
            s=session,
            ex=ex,
            clock=ex.local(ex.clock),
            rows=timeline(ex, events),
            nodes=nodes,
            edges=edges,
            views=views,
            noise=ex.world.noise_ids,
        )

    async def control(request: Request) -> Response:
        name = request.path_params["action"]
        form = await request.form()

        def field(key: str, default: str = "") -> str:
            value = form.get(key, default)
            return value if isinstance(value, str) else default

        async def play() -> str | None:
            speed = field("speed")
            session.play(float(speed) * 3600 if speed else None)
            return f"playing at {session.speed / 3600:g} h of exercise time per second"

        async def pause() -> str | None:
            session.pause()
            return "paused"

        async def step() -> str | None:
            await session.step()
            return session.message or f"the clock is at {session.exercise.local(session.exercise.clock)}"

        async def jump() -> str | None:
            await session.jump(when(field("to")))
            return session.message or f"the clock is at {session.exercise.local(session.exercise.clock)}"

        async def inject() -> str | None:
            made = await session.inject(_inject_from(field, session, when))
            return f"injected {made.id} for {made.observer} at {session.exercise.local(made.at)}"

        async def note() -> str | None:
            text = field("text").strip()
            if not text:
                raise ValueError("write the note first")
            await session.note(text)
            return "note recorded"

        async def policy() -> str | None:
            await session.change_policy(field("policy"))
            return f"the gateway now decides by {field('policy')}"

        async def rewind() -> str | None:
            await session.rewind(when(field("to")))
            return session.message

        async def end() -> str | None:
            await session.end()
            return "the exercise is over: see the debrief"

        actions: dict[str, Callable[[], Awaitable[str | None]]] = {
            "play": play,
            "pause": pause,
            "step": step,
            "jump": jump,
            "inject": inject,
            "note": note,
            "policy": policy,
            "rewind": rewind,
            "end": end,
        }
        if name not in actions:
            return JSONResponse({"ok": False, "message": f"no action {name!r}"}, status_code=404)
        return await act(actions[name], f"/f/{session.key}/debrief" if name == "end" else None)

    async def debrief(request: Request) -> Response:
        result = session.result
        if result is None:
            return HTMLResponse("the exercise is still running: end it first", status_code=409)
        local = session.exercise.local
        return render(
            "debrief.html",
            s=session,
            result=result,
            local=local,
            choices=choices(result.events, local),
            out=session.out,
            base=f"/f/{session.key}",
        )

    # -- participants ----------------------------------------------------------------------
    async def agency_page(request: Request) -> Response:
        agency = agency_of(request)
        if agency is None:
            return HTMLResponse(
                "unknown join code: ask the facilitator for your agency's link", status_code=404
            )
        return render(
            "participant.html",
            agency=agency,
            name=session.exercise.agencies[agency].agency.name,
            title=session.exercise.run.scenario.title,
            base=f"/a/{request.path_params['code']}",
        )

    async def agency_state(request: Request) -> Response:
        agency = agency_of(request)
        if agency is None:
            return HTMLResponse("unknown join code", status_code=404)
        events = await session.events()
        return render("participant_state.html", v=participant(session.exercise, agency, events))

    async def decide(request: Request) -> Response:
        agency = agency_of(request)
        if agency is None:
            return JSONResponse({"ok": False, "message": "unknown join code"}, status_code=404)
        form = await request.form()
        action = str(form.get("action", ""))
        lead = str(form.get("lead", ""))
        counterpart = str(form.get("to", ""))

        async def go() -> str | None:
            if action not in {"release", "withhold", "request"}:
                raise ValueError(f"no decision {action!r}")
            await session.decide(agency, lead, action, counterpart)  # type: ignore[arg-type]
            if action == "request":
                return f"{agency} asks {counterpart} what it holds on {lead}: recorded, and the request sent"
            return f"{agency} {action}{'s' if action != 'release' else 'es'} {lead} → {counterpart}: recorded"

        return await act(go)

    # -- both ------------------------------------------------------------------------------
    async def changes(request: Request) -> Response:
        ok = (
            request.path_params.get("key") == session.key
            if "key" in request.path_params
            else agency_of(request) is not None
        )
        if not ok:
            return HTMLResponse("not found", status_code=404)

        async def stream() -> AsyncIterator[str]:
            seen = -1
            while not await request.is_disconnected():
                version = await session.wait(seen, 10.0)
                if version != seen:
                    seen = version
                    yield f"data: {version}\n\n"
                else:
                    yield ": still here\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    async def index(request: Request) -> Response:
        return render("index.html")

    return Starlette(
        routes=[
            Route("/", index),
            Route("/f/{key}", facilitator_only(facilitator)),
            Route("/f/{key}/state", facilitator_only(facilitator_state)),
            Route("/f/{key}/events", facilitator_only(changes)),
            Route("/f/{key}/debrief", facilitator_only(debrief)),
            Route("/f/{key}/do/{action}", facilitator_only(control), methods=["POST"]),
            Route("/a/{code}", agency_page),
            Route("/a/{code}/state", agency_state),
            Route("/a/{code}/events", changes),
            Route("/a/{code}/decide", decide, methods=["POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        lifespan=lifespan,
    )


def _inject_from(field: Callable[[str, str], str], session: Session, when: Callable[[str], int]) -> Inject:
    """An inject from the facilitator's form: the template for its kind of lead, the fields filled in."""
    ex = session.exercise
    kind = LEAD_KINDS.get(field("kind", "person"))
    if kind is None:
        raise ValueError(f"no lead template {field('kind', '')!r}")
    at = when(field("at", "")) if field("at", "").strip() else ex.clock
    value = field("value", "").strip() or kind["value"]
    what = field("what", "").strip() or kind["what"]
    identifier: dict[str, Any] = {"kind": kind["identifier"], "value": value}
    where = field("where", "").strip().upper()
    if where:
        identifier["where"] = where
    indicator: dict[str, Any] = {"kind": kind["indicator"], "detail": what}
    if kind["indicator"] == "timing":
        start = when(field("from", "")) if field("from", "").strip() else at + DAY
        end = when(field("to", "")) if field("to", "").strip() else start + 3 * DAY
        indicator["window"] = {"from": start, "to": end}
    made = sum(1 for m in ex.moves if m.kind == "inject")
    return validate(
        Inject,
        {
            "id": f"facilitator-{made + 1}",
            "at": at,
            "observer": field("observer", ""),
            "what": what,
            "lead": {
                "identifiers": [identifier],
                "indicators": [indicator],
                "grading": field("grading", "C3") or "C3",
                "marking": {"level": field("level", "SECRET") or "SECRET"},
                "summary": what,
            },
        },
        Path("the inject form"),
        lambda _: None,
    )
