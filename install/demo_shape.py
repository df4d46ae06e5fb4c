"""app.json in portal terms for the sandbox's demo company (``b24app demo``, ``b24app sandbox --seed demo``,
tests): the demo portal already has our pipelines and deal/company fields, so installing the app adopts
them and the orders map shows the demo jobs at once. Built here, from the manifest, and handed to
``SandboxCloud(demo_app=...)`` as a plain mapping, so the emulator (not in the product's wheel) imports
nothing of the product for it and the product never imports the emulator."""
from __future__ import annotations

from .manifest import Manifest, load
from .params import entity_field_name

PIPELINE_KEYS = ("measurements", "production", "installation")
SEMANTICS = {"process": None, "success": "S", "failure": "F"}


def demo_app(manifest: Manifest | None = None) -> dict:
    """{"pipelines": {ru name: [(code, ru name, sem, colour)]}, "fields": {"CRM_DEAL": [(UF name, type,
    ru label)], ...}, "uf": {key: UF name}} — the names and stages the installer adopts."""
    m = manifest or load()
    pipes = {}
    for key in PIPELINE_KEYS:
        p = m.pipeline(key)
        pipes[p["name"]["ru"]] = [(st["code"], st["name"]["ru"], SEMANTICS[st["semantics"]], st.get("color"))
                                  for st in p["stages"]]
    fields = {f"CRM_{entity.upper()}": [(entity_field_name(f["key"]), f["type"], f["label"]["ru"]) for f in fs]
              for entity, fs in m.fields.items()}
    uf = {f["key"]: entity_field_name(f["key"]) for fs in m.fields.values() for f in fs}
    return {"pipelines": pipes, "fields": fields, "uf": uf}
