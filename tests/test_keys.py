"""Per-principal keys: the keystore, sealed and signed envelopes, releases' recipient and provenance,
and the signed audit chain beside a record (``tearline audit verify``)."""

from __future__ import annotations

import json
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tearline import Lead, RunConfig, Scenario, replay
from tearline.broker import Keystore, KeystoreError, Message, Rejected, open_envelope, seal
from tearline.broker._envelope import LeadEnvelope, ReleaseEnvelope
from tearline.cli import app
from tearline.model import GATEWAY, WORLD, Provenance, Release
from tearline.report import verify_audit
from tearline.run import CLOCK

from .conftest import TEACHING

PRINCIPALS = [GATEWAY, WORLD, CLOCK, "NSIG", "NSS", "SFS"]


def _message(topic: str, value: bytes, headers: Any, offset: int = 0) -> Message:
    return Message(topic, 0, offset, None, value, tuple(headers))


def _lead_envelope(sender: str = "NSIG", seq: int = 1) -> LeadEnvelope:
    lead = Lead(id="l1", origin=sender, observed_at=0)
    return LeadEnvelope(run="r", sender=sender, seq=seq, at=60, body=lead)


class TestKeystore:
    def test_a_saved_keystore_loads_with_only_the_seats_own_private_keys(self, tmp_path: Path) -> None:
        """keys init writes a registry and one private directory per principal (mode 0600)."""
        store = Keystore.generate(PRINCIPALS)
        store.save(tmp_path)
        nss = Keystore.load(tmp_path, holding=["NSS"])
        assert set(nss.private) == {"NSS"}
        assert set(nss.public) == set(PRINCIPALS)
        assert nss.fingerprint == store.fingerprint
        mode = stat.S_IMODE((tmp_path / "NSS" / "keys.json").stat().st_mode)
        assert mode == 0o600

    def test_a_seat_without_a_principals_private_keys_cannot_load_it(self, tmp_path: Path) -> None:
        """Giving a seat only its own directory withholds every other principal's keys."""
        Keystore.generate(PRINCIPALS).save(tmp_path)
        shutil.rmtree(tmp_path / "SFS")
        with pytest.raises(KeystoreError, match="does not hold SFS's private keys"):
            Keystore.load(tmp_path, holding=["SFS"])

    def test_rotation_makes_old_signatures_fail(self, tmp_path: Path) -> None:
        """keys rotate: a new generation, a new fingerprint; a signature from the old keys no longer verifies."""
        old = Keystore.generate(PRINCIPALS)
        old.save(tmp_path)
        signature = old.sign("NSS", b"value")
        result = CliRunner().invoke(app, ["keys", "rotate", str(tmp_path)])
        assert result.exit_code == 0, result.output
        new = Keystore.load(tmp_path)
        assert new.generation == 2
        assert new.fingerprint != old.fingerprint
        assert old.verify("NSS", b"value", signature)
        assert not new.verify("NSS", b"value", signature)

    def test_keys_init_covers_a_scenarios_agencies_and_the_services(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(app, ["keys", "init", str(tmp_path / "k"), "--scenario", str(TEACHING)])
        assert result.exit_code == 0, result.output
        store = Keystore.load(tmp_path / "k")
        assert {GATEWAY, WORLD, CLOCK, "NSIG", "NSS", "SFS"} <= set(store.private)
        again = CliRunner().invoke(app, ["keys", "init", str(tmp_path / "k"), "--scenario", str(TEACHING)])
        assert again.exit_code == 2
        assert "keys rotate" in again.output

    def test_an_unreadable_registry_is_a_clear_error(self, tmp_path: Path) -> None:
        (tmp_path / "registry.json").write_text("{not json")
        result = CliRunner().invoke(app, ["keys", "show", str(tmp_path)])
        assert result.exit_code == 2
        assert "not a Tearline key registry" in result.output


class TestSealedEnvelopes:
    """Between processes: each message signed by its sender's own key, sealed to its one reader."""

    keys = Keystore.generate(PRINCIPALS)

    def _open(self, message: Message, me: str) -> Any:
        return open_envelope(message, self.keys, "r", frozenset(PRINCIPALS), me=me)

    def test_a_sealed_message_opens_only_for_its_recipient(self) -> None:
        value, headers = seal(_lead_envelope(), self.keys, to=GATEWAY)
        assert b'"origin"' not in value  # the lead is not readable on the topic
        assert self._open(_message("t.NSIG.outbox", value, headers), GATEWAY).body.id == "l1"
        with pytest.raises(Rejected) as info:
            self._open(_message("t.NSS.inbox", value, headers), "NSS")
        assert info.value.code == "wrong-recipient"

    def test_a_message_signed_with_another_principals_key_is_forged(self) -> None:
        """SFS holds its own keys only: a lead it labels as NSIG's fails NSIG's signature."""
        sfs = Keystore({n: self.keys.public[n] for n in PRINCIPALS}, {"SFS": self.keys.private["SFS"]})
        env = _lead_envelope("NSIG")
        value = env.model_dump_json().encode()
        headers = (("tearline-sig", sfs.sign("SFS", value)), ("tearline-sender", b"NSIG"))
        with pytest.raises(Rejected) as info:
            open_envelope(_message("t", value, headers), self.keys, "r", frozenset(PRINCIPALS))
        assert info.value.code == "forged"

    def test_a_changed_ciphertext_is_refused(self) -> None:
        value, headers = seal(_lead_envelope(), self.keys, to=GATEWAY)
        doc = json.loads(value)
        box = doc["sealed"]["box"]
        doc["sealed"]["box"] = box[:-6] + ("AAAA" if box[-6:-2] != "AAAA" else "BBBB") + box[-2:]
        tampered = json.dumps(doc, separators=(",", ":")).encode()
        resigned = (("tearline-sig", self.keys.sign("NSIG", tampered)), ("tearline-sender", b"NSIG"))
        with pytest.raises(Rejected) as signed_by_attacker:
            self._open(_message("t", tampered, headers), GATEWAY)
        assert signed_by_attacker.value.code == "forged"
        with pytest.raises(Rejected) as info:
            self._open(_message("t", tampered, resigned), GATEWAY)
        assert info.value.code == "tampered"

    def test_a_clear_message_where_a_sealed_one_is_due_is_refused(self) -> None:
        value, headers = seal(_lead_envelope(), self.keys)
        with pytest.raises(Rejected) as info:
            self._open(_message("t", value, headers), GATEWAY)
        assert info.value.code == "not-sealed"

    @given(value=st.binary(max_size=400), sender=st.sampled_from([*PRINCIPALS, "X"]))
    @settings(max_examples=60, deadline=None)
    def test_any_bytes_are_opened_or_refused_with_a_code(self, value: bytes, sender: str) -> None:
        headers = (("tearline-sig", b"x" * 64), ("tearline-sender", sender.encode()))
        try:
            self._open(_message("t", value, headers), "NSS")
        except Rejected as exc:
            assert exc.code in {"malformed", "unknown-sender", "forged", "unsigned"}  # noqa: PT017


class TestReleases:
    """A release names its recipient and carries its originator's signature."""

    async def test_a_release_for_another_agency_or_without_provenance_is_refused(
        self, teaching: Scenario
    ) -> None:
        from tearline.broker import MemoryTransport
        from tearline.run import Run

        config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
        run = Run(config)
        nss = run.agency("NSS", MemoryTransport())
        lead = Lead(id="l1", origin="SFS", observed_at=teaching.start)
        digest = b"\x01" * 32
        good = Provenance(
            origin="SFS", digest=digest.hex(), signature=_b64(run.keys.sign_digest("SFS", digest))
        )
        cases = {
            "mis-addressed": Release(lead=lead, sender="SFS", rule="r", recipient="NSIG", provenance=good),
            "provenance": Release(lead=lead, sender="SFS", rule="r", recipient="NSS"),
        }
        forged = good.model_copy(update={"signature": _b64(run.keys.sign_digest("NSIG", digest))})
        for code, release in [
            *cases.items(),
            ("provenance", Release(lead=lead, sender="SFS", rule="r", recipient="NSS", provenance=forged)),
        ]:
            env = ReleaseEnvelope(run=config.run_id, sender=GATEWAY, seq=1, at=teaching.start, body=release)
            with pytest.raises(Rejected) as info:
                nss.handle(env)
            assert info.value.code == code
        ok = ReleaseEnvelope(
            run=config.run_id,
            sender=GATEWAY,
            seq=2,
            at=teaching.start,
            body=Release(lead=lead, sender="SFS", rule="r", recipient="NSS", provenance=good),
        )
        nss.handle(ok)
        assert nss.waiting == 1


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()


# -- the audit chain ---------------------------------------------------------------------------
_CLEAN: dict[str, Path] = {}


def _clean_run(tmp_root: Path, teaching: Scenario) -> Path:
    if "dir" not in _CLEAN:
        import asyncio

        result = asyncio.run(replay(RunConfig(scenario=teaching, policy="siloed", seed=1)))
        out = tmp_root / "clean"
        result.write(out)
        _CLEAN["dir"] = out
    return _CLEAN["dir"]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory, teaching: Scenario) -> Path:
    return _clean_run(tmp_path_factory.mktemp("audit"), teaching)


class TestAuditVerify:
    def test_a_clean_run_verifies(self, clean_run: Path) -> None:
        """Both the gateway and the driver sign the head; the command exits 0."""
        verdict = verify_audit(clean_run)
        assert verdict.ok, verdict.problems
        assert verdict.signers == (CLOCK, GATEWAY)
        result = CliRunner().invoke(app, ["audit", "verify", str(clean_run)])
        assert result.exit_code == 0, result.output
        assert "audit intact" in result.output

    @given(
        tamper=st.sampled_from(["change", "delete", "duplicate", "reorder"]),
        where=st.floats(min_value=0, max_value=1, exclude_max=True),
        other=st.floats(min_value=0, max_value=1, exclude_max=True),
    )
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_any_change_deletion_duplicate_or_reorder_names_the_first_bad_event(
        self, clean_run: Path, tmp_path: Path, tamper: str, where: float, other: float
    ) -> None:
        """Whichever record is changed, removed, repeated or moved, verify fails at its line (exit 1)."""
        lines = (clean_run / "record.jsonl").read_bytes().splitlines(keepends=True)
        i, j = int(where * len(lines)), int(other * len(lines))
        if tamper == "change":
            event = json.loads(lines[i])
            event["seq"] = event["seq"] + 100_000
            lines[i] = json.dumps(event, separators=(",", ":")).encode() + b"\n"
            first = i
        elif tamper == "delete":
            del lines[i]
            first = i
        elif tamper == "duplicate":
            lines.insert(j, lines[i])
            first = j if j != i else i + 1  # a copy right after the original is the first bad line
        else:
            j = j if j != i else (i + 1) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
            first = min(i, j)
        out = Path(tempfile.mkdtemp(dir=tmp_path, prefix=f"{tamper}-{i}-{j}-"))
        shutil.copy(clean_run / "audit.json", out / "audit.json")
        (out / "record.jsonl").write_bytes(b"".join(lines))
        verdict = verify_audit(out)
        assert not verdict.ok
        assert verdict.problems[0].startswith(f"line {first + 1}"), verdict.problems
        result = CliRunner().invoke(app, ["audit", "verify", str(out)])
        assert result.exit_code == 1
        assert f"line {first + 1}" in result.output

    def test_a_resealed_record_fails_against_the_trusted_registry(
        self, clean_run: Path, tmp_path: Path
    ) -> None:
        """Rewriting the chain and signing it with keys of one's own passes only without --keys."""
        from tearline.report import seal_audit

        out = tmp_path / "resealed"
        shutil.copytree(clean_run, out)
        record = (out / "record.jsonl").read_bytes().replace(b'"seq":1,', b'"seq":1 ,', 1)
        (out / "record.jsonl").write_bytes(record)
        mine = Keystore.generate([GATEWAY, CLOCK])
        seal = json.loads((clean_run / "audit.json").read_text())
        (out / "audit.json").write_text(
            seal_audit(record, seal["run_id"], mine, [GATEWAY, CLOCK]).model_dump_json()
        )
        trusted = Keystore.generate([GATEWAY, CLOCK, "NSS"])
        assert verify_audit(out).ok  # integrity against the keys it names…
        verdict = verify_audit(out, trusted=trusted)  # …but not authorship
        assert any("not its key in the registry" in p for p in verdict.problems)

    def test_a_missing_audit_file_exits_2(self, clean_run: Path, tmp_path: Path) -> None:
        out = tmp_path / "bare"
        out.mkdir()
        shutil.copy(clean_run / "record.jsonl", out / "record.jsonl")
        result = CliRunner().invoke(app, ["audit", "verify", str(out)])
        assert result.exit_code == 2
        assert "audit.json" in result.output
