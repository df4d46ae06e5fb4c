"""The example domain's declarations: a contact counter (event), a greeting robot it adds to the portal
itself at install, and a periodic tick."""
from __future__ import annotations

ROBOT = "b24app_example_greet"
ROBOT_SPEC = {"code": ROBOT, "name": {"ru": "Пример: приветствие", "en": "Example: greeting"},
              "properties": {"name": {"name": {"ru": "Имя", "en": "Name"}, "type": "string", "required": True}},
              "return_properties": {"greeting": {"name": {"ru": "Приветствие", "en": "Greeting"},
                                                 "type": "string"}}}
SEEN_KEY, TICKS_KEY = "example.contacts", "example.ticks"


def on_contact_add(services, member_id: str, payload: dict) -> None:
    fields = (payload.get("data") or {}).get("FIELDS") or {}
    seen = services.store.kv.get(member_id, SEEN_KEY) or []
    services.store.kv.set(member_id, SEEN_KEY, [*seen, str(fields.get("ID"))])


def greet(call):
    name = call.prop("name")
    return {"greeting": f"Hello, {name}"}, f"greeted {name}"


def tick(services, member_id: str) -> None:
    services.store.kv.set(member_id, TICKS_KEY, (services.store.kv.get(member_id, TICKS_KEY) or 0) + 1)


def install(services, member_id: str) -> None:
    """What an installer does for a robot app.json does not declare: bind the event, add the robot."""
    client = services.client(member_id)
    base = services.settings.public_url.rstrip("/")
    client.call("event.bind", {"event": "ONCRMCONTACTADD", "handler": base + "/events"})
    props = {k: {"Name": v["name"]["en"], "Type": v["type"], "Required": "Y"}
             for k, v in ROBOT_SPEC["properties"].items()}
    client.call("bizproc.robot.add", {"CODE": ROBOT, "HANDLER": f"{base}/robots/{ROBOT}", "AUTH_USER_ID": 1,
                                      "NAME": ROBOT_SPEC["name"], "USE_SUBSCRIPTION": "Y", "PROPERTIES": props,
                                      "RETURN_PROPERTIES": {"greeting": {"Name": "Greeting", "Type": "string"}},
                                      "DOCUMENT_TYPE": ["crm", "CCrmDocumentContact", "CONTACT"]})


def plugin(registry) -> None:
    registry.on_event("ONCRMCONTACTADD", on_contact_add)
    registry.robot(ROBOT, greet, spec=ROBOT_SPEC)
    registry.every("example.tick", 120, tick, "example.tick_seconds")
    registry.on_install(install)
