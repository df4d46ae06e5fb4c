"""The hub on the main page: app.json's portal-wide placements (left menu, CRM analytics), in the order
declared, with their titles in the portal's language — read from the manifest, so a new placement needs
no change here."""
from __future__ import annotations

from functools import lru_cache

from b24app.i18n import lang_of

from .manifest import load

HUB_PLACEMENT_TYPES = ("LEFT_MENU", "CRM_ANALYTICS_MENU")


@lru_cache(maxsize=1)
def hub_placements() -> tuple[dict, ...]:
    """app.json's portal-wide placements, in the order declared."""
    return tuple(p for p in load().placements if p["placement"] in HUB_PLACEMENT_TYPES)


def hub(lang: str) -> list[dict]:
    lang = lang_of(lang)
    return [{"key": p["key"], "placement": p["placement"], "title": p["title"].get(lang) or p["title"]["en"],
             "description": (p.get("description") or {}).get(lang) or ""} for p in hub_placements()]
