"""Inside one process envelopes are handed over as objects; bytes and process boundaries keep every check."""

from __future__ import annotations

from typing import Any

import pytest

from tearline import Lead, RunConfig, Scenario, replay
from tearline.broker import Keystore, MemoryTransport, Message, Rejected, drain, open_envelope
from tearline.broker._envelope import DIGEST_HEADER, SIG_HEADER, LeadEnvelope, hand_over, open_proved
from tearline.model import GATEWAY, WORLD
from tearline.run import CLOCK, Run

RUN = "run-1"
SENDERS = frozenset({WORLD, GATEWAY, "NSS"})


def _lead_envelope(run: str = RUN, sender: str = "NSS", seq: int = 1) -> LeadEnvelope:
    lead = Lead(id="l1", origin=sender, observed_at=0)
    return LeadEnvelope(run=run, sender=sender, seq=seq, at=0, body=lead)


def _handed(item: Any, headers: Any = ()) -> Message:
    return Message("t.NSS.outbox", 0, 0, b"l1", b"", tuple(headers), item)


class TestHandOver:
    async def test_a_replay_in_one_process_hands_every_envelope_over_unserialised(
        self, teaching: Scenario
    ) -> None:
        """On the memory transport every service's message is the envelope object, with no bytes."""
        transport = MemoryTransport()
        result = await replay(RunConfig(scenario=teaching, policy="fusion-centre", seed=1), transport)
        reader = await transport.subscribe("inspect", transport.topics())
        carried = [m for m in await drain(reader) if m.item is not None]
        assert len(carried) > len(result.events) - 1  # every audit record, and the messages besides
        assert all(m.value == b"" for m in carried)

    def test_a_lead_is_signed_over_its_json_so_its_provenance_holds(self) -> None:
        """A handed-over lead carries its sender's signature over the JSON it would have on the wire."""
        keys = Keystore.in_process(SENDERS)
        env = _lead_envelope()
        headers = hand_over(env, keys)
        opened, proof = open_proved(_handed(env, headers), keys, RUN, SENDERS)
        assert opened is env
        assert proof is not None
        assert keys.verify(env.sender, env.model_dump_json(by_alias=True).encode(), proof.signature)

    def test_a_proof_signed_by_another_principal_is_forged(self) -> None:
        """A lead handed over with a signature made with someone else's key is refused as forged."""
        keys = Keystore.in_process(SENDERS)
        env = _lead_envelope()
        headers = dict(hand_over(env, keys))
        forged = {SIG_HEADER: keys.sign_digest(GATEWAY, headers[DIGEST_HEADER])}
        with pytest.raises(Rejected) as info:
            open_envelope(_handed(env, {**headers, **forged}.items()), keys, RUN, SENDERS)
        assert info.value.code == "forged"

    @pytest.mark.parametrize(
        ("item", "code"),
        [
            (_lead_envelope(run="another-run"), "other-run"),
            (_lead_envelope(sender="SFS"), "unknown-sender"),
            ({"kind": "lead"}, "malformed"),
        ],
    )
    def test_an_object_for_another_run_from_a_stranger_or_not_an_envelope_is_refused(
        self, item: Any, code: str
    ) -> None:
        """The run, the sender and the type of a handed-over object are checked as for bytes."""
        with pytest.raises(Rejected) as info:
            open_envelope(_handed(item), Keystore.in_process(SENDERS), RUN, SENDERS)
        assert info.value.code == code

    def test_an_object_is_refused_where_messages_cross_processes(self) -> None:
        """With a sealed keystore (services in several processes) only signed, sealed bytes are taken."""
        keys = Keystore.generate(SENDERS)
        with pytest.raises(Rejected) as info:
            open_envelope(_handed(_lead_envelope()), keys, RUN, SENDERS, me=GATEWAY)
        assert info.value.code == "not-sealed"

    async def test_services_with_a_sealed_keystore_send_bytes_even_in_one_process(
        self, teaching: Scenario
    ) -> None:
        """On the memory transport with real keys, every message is sealed and signed bytes, and the
        record is the same."""
        config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
        keys = Keystore.generate([*Run(config).senders, CLOCK])
        transport = MemoryTransport()
        sealed = await replay(config, transport, keys=keys)
        reader = await transport.subscribe("inspect", transport.topics())
        messages = await drain(reader)
        assert messages
        assert all(m.item is None and m.header(SIG_HEADER) for m in messages)
        assert sealed.digest == (await replay(config)).digest
