"""``b24app install [--dry-run] [--uninstall] PORTAL`` — the same installer the install handler runs.

PORTAL is a member_id or a domain of a portal that has installed the app (its tokens are in the store).
``--dry-run`` reads the portal and prints the plan without changing anything.
"""
from __future__ import annotations

import sys

import click

from b24app import secretbox
from b24app.config import Settings
from b24app.inbox import detect_offline_mode
from b24app.services import Services
from b24app.store import open_store

from .apply import dry_run as plan_only
from .apply import install
from .manifest import ManifestError, load
from .uninstall import remove_bindings


def _services():
    try:
        secretbox.require_key()     # the stored tokens are sealed: nothing to do without the key
    except secretbox.SecretBoxError as exc:
        raise click.ClickException(str(exc)) from None
    settings = Settings.from_env()
    return Services(settings, open_store(settings.database_url))


def resolve_portal(store, portal: str) -> str:
    """member_id as given, or the member_id of the stored portal with that domain."""
    if store.portals.get(portal):
        return portal
    host = portal.split("://", 1)[-1].strip("/")
    for p in store.portals.list():
        if p.domain == host:
            return p.member_id
    known = ", ".join(f"{p.domain} ({p.member_id})" for p in store.portals.list()) or "none"
    raise click.BadParameter(f"no installed portal {portal!r}; known: {known}", param_hint="PORTAL")


class ProgressBar:
    """``install(progress=...)`` → a click progress bar: the total grows as rounds unblock children, so the
    bar's length follows it; the current step is shown beside the bar."""

    def __init__(self):
        self.bar = None

    def __call__(self, done: int, total: int, step: str) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label="installing", show_pos=True,
                                         item_show_func=lambda item: item or "")
            self.bar.__enter__()
        self.bar.length = max(total, done, 1)
        self.bar.update(max(done - self.bar.pos, 0), step)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


@click.command("install")
@click.argument("portal")
@click.option("--dry-run", is_flag=True, help="Print the plan (create / update / leave) and change nothing.")
@click.option("--uninstall", is_flag=True, help="Remove our placements, event handlers and robots.")
@click.option("--manifest", "manifest_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Another app.json (default: $B24APP_MANIFEST, else the one shipped with b24app).")
def install_command(portal: str, dry_run: bool, uninstall: bool, manifest_path: str | None, services=None):
    """Install app.json into PORTAL (idempotent: a second run changes nothing)."""
    svc = services or _services()
    member_id = resolve_portal(svc.store, portal)
    try:
        manifest = load(manifest_path)
    except ManifestError as exc:
        raise click.ClickException(str(exc)) from None
    if uninstall:
        errors = remove_bindings(svc, member_id)
        click.echo(f"bindings removed from {member_id}" + ("".join(f"\n  {e}" for e in errors)))
        sys.exit(1 if errors else 0)
    if dry_run:
        click.echo(plan_only(svc, member_id, manifest).render())
        return
    click.echo(f"offline events: {detect_offline_mode(svc, member_id)} mode")
    with ProgressBar() as progress:
        report = install(svc, member_id, manifest, progress=progress)
    for line in report.sent:
        click.echo(f"  sent {line}")
    for err in report.errors:
        click.echo(f"  error {err}", err=True)
    click.echo(report.summary())
    if not report.complete:
        sys.exit(1)
