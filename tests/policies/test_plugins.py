"""Third-party policies through the ``tearline.policies`` entry point — without pip installing.

Each test writes a tiny distribution (a ``*.dist-info`` folder and its module) into a temporary
folder on ``sys.path``; ``importlib.metadata`` finds its entry points there like an installed one.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tearline.policies import ENTRY_POINT_GROUP, available, load_policy
from tests.policies.world import ctx, lead, route

PLUGIN = '''
"""``always-share``: a test plugin that releases everything after an hour."""

from tearline import Decision


class AlwaysShare:
    name = "always-share"
    summary = "Test plugin: release everything after one hour."

    def __init__(self, delay: str = "3600") -> None:
        self.delay = int(delay)

    def decide(self, lead, route, ctx):
        return Decision.release("always-share", "the plugin shares everything", delay=self.delay)

    def enables(self, scenario):
        return frozenset()
'''

UNANIMOUS = '''
"""``unanimous``: a test plugin that composes other policies: release only if every member releases."""

from __future__ import annotations

from collections.abc import Sequence

from tearline import Decision
from tearline.policies import Policy


class Unanimous:
    name = "unanimous"
    summary = "Test plugin: release only if every member releases."

    def __init__(self, of: Sequence[Policy]) -> None:
        self.members = tuple(of)

    def decide(self, lead, route, ctx):
        verdicts = [m.decide(lead, route, ctx) for m in self.members]
        if all(v.action == "release" for v in verdicts):
            return Decision.release("unanimous", "every member releases")
        return Decision.withhold("unanimous", "a member does not release")

    def enables(self, scenario):
        return frozenset()
'''

TAKES_NAMES = '''
"""``takes-names``: annotations that do not resolve at run time; its options stay as written."""

from __future__ import annotations

from tearline import Decision


class TakesNames:
    name = "takes-names"
    summary = "Test plugin: keeps a name it is given."

    def __init__(self, other: Unresolvable = "bilateral") -> None:
        self.other = other

    def decide(self, lead, route, ctx):
        return Decision.withhold("takes-names", f"only names {self.other}")

    def enables(self, scenario):
        return frozenset()
'''


def distribution(root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"  # as wheels name it
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


class TestPlugins:
    def test_a_plugin_is_listed_and_loads_with_options(self, plugin_dir: Path) -> None:
        distribution(
            plugin_dir,
            "tearline-share",
            {"always-share": "share_plugin:AlwaysShare"},
            {"share_plugin": PLUGIN},
        )
        info = {i.name: i for i in available()}["always-share"]
        assert info.origin == "tearline-share"
        assert info.summary == "Test plugin: release everything after one hour."
        assert info.options == ("delay",)
        policy = load_policy("always-share:delay=60")
        d = policy.decide(lead(), route("IB", "CIA"), ctx())
        assert (d.action, d.delay, d.rule) == ("release", 60, "always-share")

    def test_a_plugin_composes_like_a_builtin(self, plugin_dir: Path) -> None:
        distribution(
            plugin_dir,
            "tearline-share",
            {"always-share": "share_plugin:AlwaysShare"},
            {"share_plugin": PLUGIN},
        )
        d = load_policy("deny-overrides:of=always-share+releasability").decide(
            lead(noforn=True), route("IB", "CIA"), ctx()
        )
        assert d.action == "withhold" and d.trail[0].startswith("always-share: release")

    def test_a_broken_plugin_warns_instead_of_crashing(self, plugin_dir: Path) -> None:
        distribution(
            plugin_dir,
            "tearline-broken",
            {"broken": "no_such_module:Nothing", "raises": "raising_plugin:Policy"},
            {"raising_plugin": "raise RuntimeError('plugin bug')\n"},
        )
        with pytest.warns(UserWarning, match="failed to load") as caught:
            names = {i.name for i in available()}
        assert "broken" not in names and "raises" not in names and "tlp" in names
        assert any("plugin bug" in str(w.message) for w in caught)

    def test_a_duplicate_name_is_skipped(self, plugin_dir: Path) -> None:
        distribution(
            plugin_dir, "tearline-dup", {"tlp": "share_plugin:AlwaysShare"}, {"share_plugin": PLUGIN}
        )
        distribution(plugin_dir, "tearline-one", {"always-share": "share_plugin:AlwaysShare"}, {})
        distribution(plugin_dir, "tearline-two", {"always-share": "share_plugin:AlwaysShare"}, {})
        with pytest.warns(UserWarning, match="duplicates a known policy") as caught:
            infos = {i.name: i for i in available()}
        assert sorted(str(w.message).split("'")[1] for w in caught) == ["always-share", "tlp"]
        assert infos["tlp"].origin == "built-in"
        assert infos["always-share"].origin in {"tearline-one", "tearline-two"}
        with pytest.warns(UserWarning, match="duplicates"):
            assert load_policy("tlp").decide(lead(tlp="RED"), route("IB", "CIA"), ctx()).action == "withhold"

    def test_a_plugin_that_takes_policies_gets_them_built(self, plugin_dir: Path) -> None:
        """An option annotated Sequence[Policy] receives built policies, plugins among them."""
        distribution(
            plugin_dir,
            "tearline-share",
            {"always-share": "share_plugin:AlwaysShare", "unanimous": "unanimous_plugin:Unanimous"},
            {"share_plugin": PLUGIN, "unanimous_plugin": UNANIMOUS},
        )
        p = load_policy("unanimous:of=always-share+releasability")
        assert [m.name for m in p.members] == ["always-share", "releasability"]  # type: ignore[attr-defined]
        assert p.decide(lead(), route("IB", "CIA"), ctx()).action == "release"
        assert p.decide(lead(noforn=True), route("IB", "CIA"), ctx()).action == "withhold"

    def test_annotations_that_do_not_resolve_leave_options_as_written(self, plugin_dir: Path) -> None:
        distribution(
            plugin_dir,
            "tearline-names",
            {"takes-names": "names_plugin:TakesNames"},
            {"names_plugin": TAKES_NAMES},
        )
        assert load_policy("takes-names:other=tlp").other == "tlp"  # type: ignore[attr-defined]
