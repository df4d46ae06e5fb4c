"""What an administrator may send to the 1C settings API, and saving it: the connection (sync_1c.connection)
and the per-pipeline gate / auto-forward (sync_1c.pipeline_settings) in one document.

Why here and not in the handler: the rules are the 1C domain's (which keys exist, a profile we know, an
interval the scheduler can keep, a base URL the outbound guard lets us reach). Everything is checked
before anything is written or any request is sent; the first problem is a ``SettingsError`` whose text
the settings page shows under the form.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from b24app.errors import SettingsError, said
from b24app.outbound import OutboundRefused
from install.registry import installed_ids

from . import connection, pipeline_settings, profiles

CONNECTION_KEYS = {"base_url", "username", "password", "profile", "tz", "lookback_days", "interval", "reread_days",
                   "reconcile_hours"}
PIPELINE_KEYS = {"gate", "auto_forward"}
WHOLE_NUMBERS = (("interval", 60), ("lookback_days", 1), ("reread_days", 1),
                 ("reconcile_hours", 1))                                                  # key, least value


def connection_values(body: dict, stored: dict) -> dict:
    """The connection keys of ``body`` ("" / null left out: an empty password keeps the stored one),
    normalised, or SettingsError naming the first value a person must correct."""
    values = {k: v for k, v in body.items() if k in CONNECTION_KEYS and v not in ("", None)}
    merged = {**stored, **values}
    if values or not stored:
        for k in ("base_url", "username", "password"):
            if not merged.get(k):
                raise SettingsError(said(
                    f"{k} is required: the 1C connection needs the OData URL, a login and a password",
                    f"{k} обязателен: для подключения к 1С нужны адрес OData, логин и пароль"))
    url = str(merged.get("base_url") or "")
    if url and not url.lower().startswith(("http://", "https://")):
        raise SettingsError(said(f"base_url must be an http(s):// address of the OData publication, got {url!r}",
                                 f"base_url — адрес публикации OData, начинающийся с http(s)://, а не {url!r}"))
    for k, lo in WHOLE_NUMBERS:
        if k not in values:
            continue
        if isinstance(values[k], bool) or not str(values[k]).isdigit() or int(values[k]) < lo:
            raise SettingsError(said(f"{k} must be a whole number ≥ {lo}, got {values[k]!r}",
                                     f"{k} — целое число не меньше {lo}, а не {values[k]!r}"))
        values[k] = int(values[k])
    if "tz" in values:
        try:
            ZoneInfo(str(values["tz"]))
        except (ZoneInfoNotFoundError, ValueError):
            tz = values["tz"]
            raise SettingsError(said(f"tz: unknown time zone {tz!r} (an IANA name like Europe/Moscow)",
                                     f"tz: неизвестный часовой пояс {tz!r} (нужно имя IANA, например Europe/Moscow)")) \
                from None
    if "profile" in values and values["profile"] not in profiles.PROFILES:
        name, known = values["profile"], ", ".join(profiles.PROFILES)
        raise SettingsError(said(f"unknown 1C profile {name!r}; known: {known}",
                                 f"неизвестная конфигурация 1С {name!r}; известные: {known}"))
    return values


def save(store, member_id: str, body, guard) -> dict:
    """Check the whole document, then save the connection (and check it against `$metadata` at once:
    ``problems``, empty when the profile has everything) and/or the pipeline settings. ``guard`` is the
    deployment's OutboundGuard: a base URL it refuses is a settings error, nothing sent."""
    if not isinstance(body, dict):
        raise SettingsError(said("a JSON object is expected", "нужен JSON-объект"))
    unknown = sorted(set(body) - CONNECTION_KEYS - PIPELINE_KEYS)
    if unknown:
        listed = ", ".join(unknown)
        raise SettingsError(said(f"unknown setting(s): {listed}", f"неизвестные настройки: {listed}"))
    values = connection_values(body, store.kv.get(member_id, connection.KV_KEY) or {})
    if "base_url" in values:
        try:
            guard.check(str(values["base_url"]))
        except OutboundRefused as exc:
            raise SettingsError(said(str(exc), f"адрес не разрешён: {exc}"), path="base_url") from None
    pipelines = PIPELINE_KEYS & set(body)
    ids = installed_ids(store, member_id) if pipelines else None      # NotInstalled: no pipelines to name
    for k in sorted(pipelines):
        getattr(pipeline_settings, f"parse_{k}")(body[k], ids)
    out: dict = {}
    if values or not pipelines:
        conn = connection.save(store.kv, member_id, **values)
        out = {"connection": conn.public(), "problems": connection.check(conn, guard=guard)}
    if pipelines:
        out.update(pipeline_settings.save(store.kv, member_id, ids, body))
    return out
