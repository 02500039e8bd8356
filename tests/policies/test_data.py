"""Policies as data: the YAML format, its semantics, and ``lint``'s errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from tearline import PolicyError, Tearline
from tearline.model._time import DAY, HOUR
from tearline.policies import RuleSet, lint, load_policy, policy_from_data
from tests.policies.world import SMALL, START, ctx, lead, route

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "policies" / "examples").glob("*.yaml"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def rules(text: str) -> RuleSet:
    policy = policy_from_data(yaml.safe_load(textwrap.dedent(text)))
    assert isinstance(policy, RuleSet)
    return policy


class TestExamples:
    def test_there_are_examples(self) -> None:
        assert len(EXAMPLES) >= 3

    @pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
    def test_each_lints_clean_and_loads(self, path: Path) -> None:
        report = lint(path, SMALL)
        assert report.ok, report.errors
        assert load_policy(str(path)).name == path.stem
        data = yaml.safe_load(path.read_text())
        assert policy_from_data(data, str(path)).name == data["policy"]


class TestRuleSemantics:
    POLICY = """
        policy: test-rules
        groups: {allies: [US, FR]}
        rules:
          - name: noforn home
            match: {caveats: {noforn: true}, domestic: false}
            action: withhold
          - name: red named
            match: {tlp: RED, named: false}
            action: withhold
          - name: allies get a tearline of secrets
            match: {recipient_in: allies, classification: {at_least: SECRET}}
            action: release
            delay: 12h
            transforms: [{tearline: {downgrade_to: CONFIDENTIAL, drop: phone}}]
          - name: allies
            match: {recipient_in: allies}
            action: release
            delay: 1d
          - name: home
            match: {domestic: true}
            action: release
    """

    def test_first_matching_rule_decides(self) -> None:
        p = rules(self.POLICY)
        d = p.decide(lead(noforn=True), route("IB", "CIA"), ctx())
        assert (d.action, d.rule) == ("withhold", "test-rules: noforn home")
        d = p.decide(lead(level="TOP SECRET"), route("IB", "CIA"), ctx())
        assert (d.action, d.delay) == ("release", 12 * HOUR)
        assert d.transforms == (Tearline(downgrade_to="CONFIDENTIAL", drop=("phone",)),)
        assert "recipient in allies" in d.reason
        d = p.decide(lead(level="CONFIDENTIAL"), route("IB", "DGSI"), ctx())
        assert (d.rule, d.delay) == ("test-rules: allies", DAY)

    def test_no_match_is_not_applicable_with_the_default(self) -> None:
        d = rules(self.POLICY).decide(lead(), route("IB", "BEPOL"), ctx())
        assert (d.action, d.applicable, d.rule) == ("withhold", False, "test-rules: no rule matched")

    def test_reason_given_in_the_file_is_used(self) -> None:
        p = rules("""
            policy: r
            rules: [{name: all, action: withhold, reason: not today}]
        """)
        assert p.decide(lead(), route("IB", "RAW"), ctx()).reason == "not today"

    def test_consult_rule_runs_the_consent_loop(self) -> None:
        p = rules("""
            policy: r
            rules: [{name: ask, match: {third_party: true}, action: consult, delay: 1h}]
        """)
        assessment = lead(third_party=(("CIA", True),))
        d = p.decide(assessment, route("IB", "RAW"), ctx())
        assert (d.action, d.consult) == ("consult", "CIA")
        d = p.decide(assessment, route("IB", "RAW"), ctx(consents={("L1", "RAW"): "grant"}))
        assert (d.action, d.delay) == ("release", HOUR)
        assert (
            p.decide(assessment, route("IB", "RAW"), ctx(consents={("L1", "RAW"): "refuse"})).action
            == "withhold"
        )

    def test_time_windows_and_unquoted_yaml_timestamps(self) -> None:
        p = rules("""
            policy: r
            rules:
              - {name: early, match: {time: {before: 2030-01-02T00:00:00+00:00}}, action: withhold}
              - {name: later, match: {time: {after: start+1d}}, action: release}
        """)
        assert p.decide(lead(), route("IB", "RAW"), ctx()).rule == "r: early"
        assert p.decide(lead(), route("IB", "RAW"), ctx(now=START + 2 * DAY)).rule == "r: later"

    def test_matchers(self) -> None:
        def matches(match: str, lead_: object, sender: str = "IB", recipient: str = "CIA") -> bool:
            p = rules(f"policy: r\nrules: [{{name: m, match: {match}, action: release}}]")
            return p.decide(lead_, route(sender, recipient), ctx()).applicable  # type: ignore[arg-type]

        assert matches("{caveats: {rel_to: includes-recipient}}", lead(rel_to=("US",)))
        assert not matches("{caveats: {rel_to: includes-recipient}}", lead(rel_to=("FR",)))
        assert matches("{caveats: {rel_to: unmarked}}", lead())
        assert matches("{classification: [SECRET, TOP SECRET]}", lead(level="SECRET"))
        assert not matches("{classification: {at_most: CONFIDENTIAL}}", lead(level="SECRET"))
        assert matches("{need_to_know: true}", lead(where=("IN",)), recipient="FBI")
        assert matches(
            "{identifier: phone, indicator: [intent]}", lead(phones=("1",), indicators=("intent",))
        )
        assert matches("{sender: IB, recipient_kind: foreign-intelligence, sender_country: IN}", lead())
        assert not matches("{source: SIGINT}", lead())
        assert matches("{third_party: false, assessment: false, named: false}", lead())


class TestCompositionFiles:
    def test_members_of_every_form(self) -> None:
        p = policy_from_data(
            yaml.safe_load("""
                policy: combo
                combine: deny-overrides
                delays: sum
                members:
                  - releasability
                  - {use: approval-delay, options: {secret: 2h, foreign: 0}}
                  - {use: bilateral, only: release}
                  - rules: [{name: no red, match: {tlp: RED}, action: withhold}]
            """)
        )
        d = p.decide(lead(level="SECRET"), route("IB", "RAW"), ctx())
        assert (d.action, d.delay) == ("release", 2 * HOUR + DAY)
        assert len(d.trail) == 4
        assert p.decide(lead(tlp="RED"), route("IB", "RAW"), ctx()).rule == "combo-4: no red"

    def test_a_bad_file_raises_one_error_listing_every_problem(self) -> None:
        with pytest.raises(PolicyError, match=r"(?s)members\[0\].*unknown policy 'bilaterl'.*lint"):
            policy_from_data({"policy": "x", "combine": "deny-overrides", "members": ["bilaterl"]}, "x.yaml")


class TestLint:
    @pytest.mark.parametrize(
        ("text", "line", "message"),
        [
            ("policy: x\nrules: [{name: a, action: relase}]\n", 2, "Input should be 'release', 'withhold' or 'consult'"),
            ("policy: x\nrules:\n  - name: a\n    action: release\n    colour: red\n", 5, "unknown field"),
            ("policy: x\nrules:\n  - name: a\n    match: {recipient_country: [FR, NO]}\n    action: release\n", 4,
             "quote it (e.g. 'NO' for Norway"),
            ("policy: x\nrules:\n  - name: a\n    match: {recipient_in: allies}\n    action: release\n", 4,
             "unknown group 'allies'"),
            ("policy: x\nrules:\n  - {name: a, action: withhold, delay: 1h}\n", 3, "a withhold rule takes no delay"),
            ("policy: x\nmembers: [tlp]\n", 1, "a composition must say how to combine"),
            ("policy: x\ncombine: first-applicable\nmembers:\n  - tlp\n  - bilaterl\n", 5, "unknown policy 'bilaterl'"),
            ("policy: x\nrules: [{name: a, match: {time: {after: soon}}, action: release}]\n", 2, "'soon' is not a time"),
            ("rules: [{name: a, action: release}]\n", None, "name the policy"),
            ("policy: x\nrules: [\n", 3, "not valid YAML"),
            ("policy: x\ncombine: deny-overrides\nmembers:\n  - use: tlp\n    options:\n      clients: sometimes\n",
             6, "option clients='sometimes' is not one of"),
            ("policy: x\ncombine: deny-overrides\nmembers:\n  - use: first-applicable\n    options:\n"
             "      delays: max\n      of: [tlp, tearline:then=bilaterl]\n", 7, "option of: tearline: option then: unknown policy 'bilaterl'"),
        ],
    )  # fmt: skip
    def test_errors_name_the_line_and_the_fix(
        self, tmp_path: Path, text: str, line: int | None, message: str
    ) -> None:
        report = lint(write(tmp_path, text))
        assert not report.ok and report.policy is None
        assert any(message in p.reason and (line is None or p.line == line) for p in report.errors), (
            report.errors
        )

    def test_warnings_do_not_fail(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            """
            policy: x
            rules:
              - {name: all, action: release}
              - {name: never, match: {sender: NOBODY}, action: withhold}
              - {name: ask, action: consult}
            """,
        )
        report = lint(path, SMALL)
        assert report.ok
        reasons = " | ".join(p.reason for p in report.warnings)
        assert (
            "unreachable" in reasons
            and "third_party: true" in reasons
            and "'NOBODY' is not an agency" in reasons
        )
