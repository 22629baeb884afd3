"""``flask licences verify FILE``, ``public-key``, ``rotate-key`` and ``retire-key``: check certificates offline,
and rotate the signing key.

``verify`` reads the public keys once, from a JWKS file or URL (by default it fetches this marketplace's
``PUBLIC_BASE_URL`` + ``/.well-known/licence-keys.json``; with ``--keys FILE`` it needs no network), and touches no
database: it checks the signature, and that a key the JWKS marks retired (``retired_at``) signed the certificate
before its retirement; only the online check (``/certificates/verify``) also compares the certificate with the
licence on record. Exit status: 0 valid, 1 not valid (the reason is printed), 2 when the keys or the file could not
be read (one line saying why).

``rotate-key`` replaces the key in ``LICENCE_SIGNING_KEY_FILE`` and keeps the old public key published as retired;
with an inline ``LICENCE_SIGNING_KEY`` it explains the manual steps, which end with ``retire-key``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.licensing.certificates import KEYS_PATH, base_url, verify_document
from marketplace.signing.keys import read_jwks
from marketplace.signing.services import published_jwks, retire_previous_keys, rotate_key_file
from marketplace.uow import unit_of_work

MAX_FILE_BYTES = 1024 * 1024


class KeysUnavailable(click.ClickException):
    exit_code = 2


def load_keys(source: str, fetched_by_default: bool = False) -> dict:
    """A JWKS from a file path or an http(s) URL (fetched once); exit 2 saying why when it cannot be read, and,
    for the site's keys fetched by default, how to verify without the site."""
    try:
        return read_jwks(source)
    except ValueError as exc:
        hint = (" To verify without the site, pass --keys FILE: a saved copy of its keys "
                f"({KEYS_PATH}, or the output of `flask licences public-key`).") if fetched_by_default else ""
        raise KeysUnavailable(f"{exc}{hint}") from None


@click.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--keys", "keys_source", metavar="PATH_OR_URL",
              help="The JWKS to verify against: a file (fully offline) or a URL. Default: fetched from this "
                   f"marketplace's site, PUBLIC_BASE_URL + {KEYS_PATH}.")
@with_appcontext
def verify_command(file: str, keys_source: str | None) -> None:
    """Verify a licence or registration certificate, a transaction voucher or an assessment report (the JSON
    download) against the marketplace's public keys: its signature, and that a retired key signed it before its
    retirement. The keys are fetched from this marketplace's site unless --keys names them; with a keys file
    nothing is fetched. The certificate is not compared with the marketplace's records (its
    /certificates/verify page does that)."""
    source = keys_source or base_url() + KEYS_PATH
    jwks = load_keys(source, fetched_by_default=keys_source is None)
    try:
        raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1) if file == "-" else _read(Path(file))
    except OSError as exc:
        raise KeysUnavailable(f"Could not read {file}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        click.echo(f"NOT VALID: {file} is larger than any certificate.", err=True)
        sys.exit(1)
    result = verify_document(raw, jwks)
    if result.valid:
        click.echo(f"VALID: {result.serial or '(no serial)'}: {result.reason}")
        click.echo(f"This checks the signature only; the marketplace's /certificates/verify page also "
                   f"compares the {result.kind} with the one on record.")
        return
    click.echo(f"NOT VALID{f': {result.serial}' if result.serial else ''}: {result.reason}", err=True)
    sys.exit(1)


def _read(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


@click.command("public-key")
@with_appcontext
def public_key_command() -> None:
    """Print the JWKS that verifies this marketplace's certificates: the current key and the retired ones."""
    click.echo(json.dumps(published_jwks(db.session, current_app), indent=2))


@click.command("rotate-key")
@with_appcontext
def rotate_key_command() -> None:
    """Replace the signing key in LICENCE_SIGNING_KEY_FILE with a new one; the old public key stays published as
    retired, so certificates it signed still verify. The old private key is overwritten, not kept."""
    try:
        with unit_of_work() as session:
            rotation = rotate_key_file(session, current_app)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    if rotation.retired:
        click.echo(f"Retired key {rotation.retired} (still published, no longer signs).")
    click.echo(f"New signing key {rotation.current} written to {rotation.path}.")
    click.echo("Running app processes switch to it at their next signature.")


@click.command("retire-key")
@with_appcontext
def retire_key_command() -> None:
    """After replacing an inline LICENCE_SIGNING_KEY: record the configured key and mark every key used before it
    as retired (still published, no longer signing)."""
    try:
        with unit_of_work() as session:
            retired = retire_previous_keys(session, current_app)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    for key_id in retired:
        click.echo(f"Retired key {key_id}.")
    click.echo(f"{len(retired)} key(s) retired.")


def init_certificate_cli(app: Flask) -> None:
    """Add ``verify``, ``public-key``, ``rotate-key`` and ``retire-key`` to the ``flask licences`` group
    (``licensing.cli`` makes it)."""
    group = app.cli.commands["licences"]
    for command in (verify_command, public_key_command, rotate_key_command, retire_key_command):
        group.add_command(command)
