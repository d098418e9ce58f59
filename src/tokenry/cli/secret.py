"""``tokenry secret``: rotate the server secret, list the keyring's keys, retire an old one.
No command ever prints a secret."""

from __future__ import annotations

from typing import Annotated

import typer

from tokenry.cli.common import JsonOption, emit, open_core, out, table
from tokenry.operations.retire_secret import retire_secret
from tokenry.operations.rotate_secret import Rotated, activate_secret, rotate_secret
from tokenry.operations.secret_keys import list_secret_keys

app = typer.Typer(help="Rotate the server secret (the keyring every token hash is keyed with).",
                  no_args_is_help=True)


def _emit(rotated: Rotated, as_json: bool, staged: bool = False) -> None:
    if staged:
        text = (f"Key {rotated.key_id} is staged ({rotated.keys} keys in {rotated.path}): it "
                f"verifies, key {rotated.previous_id} stays current. Copy the file to every "
                f"other node, then run `tokenry secret activate {rotated.key_id}`.")
    else:
        text = (f"Key {rotated.key_id} is now current ({rotated.keys} keys in "
                f"{rotated.path}); key {rotated.previous_id} keeps verifying what it made. "
                "Copy the file to every other node.")
    emit(as_json, {"secret": {"key_id": rotated.key_id, "previous_key_id":
                              rotated.previous_id, "current": not staged,
                              "keys": rotated.keys, "path": str(rotated.path)}},
         lambda: out.print(text, highlight=False))


@app.command("rotate")
def rotate(staged: Annotated[bool, typer.Option(
               "--staged", help="Add the key for verification only; make it current later "
               "with `tokenry secret activate` (for several nodes).")] = False,
           as_json: JsonOption = False) -> None:
    """Add a new key and make it current: new tokens use it, old ones keep verifying.
    Running servers pick it up without a restart; every node needs the same keyring file."""
    with open_core(check_schema=False) as core:
        _emit(rotate_secret(core, staged=staged), as_json, staged)


@app.command("activate")
def activate(key_id: Annotated[str, typer.Argument(metavar="KID", help="The key id.")],
             as_json: JsonOption = False) -> None:
    """Make a staged key current (after the staged keyring reached every node)."""
    with open_core(check_schema=False) as core:
        _emit(activate_secret(core, key_id), as_json)


@app.command("list")
def list_keys(as_json: JsonOption = False) -> None:
    """The keyring's key ids, which is current, when each was made and how many stored
    credentials each still backs."""
    with open_core() as core:
        keys = list_secret_keys(core)
        emit(as_json, {"secret_keys": [
            {"key_id": k.key_id, "current": k.current, "created_at": k.created_at,
             "backs": k.backs, "in_keyring": k.in_keyring} for k in keys]},
             lambda: table(["key id", "current", "created", "backs"], [
                 (k.key_id, "yes" if k.current else "",
                  k.created_at.isoformat(timespec="seconds") if k.created_at else "-",
                  k.backs if k.in_keyring else f"{k.backs} (MISSING from this keyring)")
                 for k in keys]))


@app.command("retire")
def retire(key_id: Annotated[str, typer.Argument(metavar="KID", help="The key id.")]) -> None:
    """Drop an old key from the keyring; refused while any stored credential still uses it."""
    with open_core() as core:
        retire_secret(core, key_id)
        out.print(f"Key {key_id} retired.", highlight=False)
