"""``tearline keys``: make a keystore for an exercise, rotate it between runs, show its registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tearline.broker import Keystore, KeystoreError
from tearline.model import GATEWAY, WORLD
from tearline.run import CLOCK

from ._common import EXIT_BAD_INPUT, clear_errors, fail, load, out

keys_app = typer.Typer(help="Per-agency keys: make, rotate and show a keystore.", no_args_is_help=True)

Directory = Annotated[Path, typer.Argument(help="The keystore directory.")]


@keys_app.command("init")
def keys_init(
    directory: Directory,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", help="Make keys for every agency of this scenario. Repeatable."),
    ] = None,
    agency: Annotated[
        list[str] | None, typer.Option("--agency", help="Make keys for this agency too. Repeatable.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing keystore.")] = False,
) -> None:
    """Make a keystore: an Ed25519 and an X25519 key for each agency, the gateway, the world and the driver.

    DIR/registry.json holds every public key (give it to every seat); DIR/<PRINCIPAL>/keys.json holds
    one principal's private keys (give it only to the seat that runs it).

    Example:  tearline keys init keys/ --scenario connect-the-dots
    """
    names: set[str] = {GATEWAY, WORLD, CLOCK, *(agency or ())}
    with clear_errors():
        for name in scenario or ():
            names.update(a.id for a in load(name).agencies)
    if not scenario and not agency:
        fail("name the agencies: --scenario NAME or --agency ID", code=EXIT_BAD_INPUT)
    if (directory / "registry.json").exists() and not force:
        fail(
            f"{directory} already holds a keystore",
            hint=f"Rotate it between runs with: tearline keys rotate {directory} (or pass --force)",
        )
    store = Keystore.generate(names)
    store.save(directory)
    out.print(f"wrote keys for {', '.join(sorted(names))} to {directory} (registry {store.fingerprint})")


@keys_app.command("rotate")
def keys_rotate(directory: Directory) -> None:
    """Replace every key of a keystore with a new generation (between runs: a running session stops verifying).

    Example:  tearline keys rotate keys/
    """
    try:
        old = Keystore.load(directory, holding=())
    except KeystoreError as exc:
        fail(str(exc), hint=exc.hint)
    new = old.rotated()
    new.save(directory)
    out.print(
        f"generation {new.generation}: new keys for {', '.join(sorted(new.public))} "
        f"(registry {old.fingerprint} → {new.fingerprint}); hand each seat its new directory"
    )


@keys_app.command("show")
def keys_show(directory: Directory) -> None:
    """Print the registry: each principal's public keys, and which private keys are in DIR."""
    try:
        store = Keystore.load(directory)
    except KeystoreError as exc:
        fail(str(exc), hint=exc.hint)
    out.print(f"registry {store.fingerprint} · generation {store.generation}")
    for name in sorted(store.public):
        held = "private keys here" if name in store.private else "public only"
        out.print(f"  {name:<10} {store.public[name].to_json()['sign']}  ({held})")
