""""On my way": tell the client through the portal's own channel where one is connected, else the manager.

The client's channel is the deal's (a visit: the company's) open-line chat — the conversation the portal's
connected messenger or SMS channel carries for that client (``imopenlines.crm.chat.getLastId``; docs
api-reference/imopenlines/openlines/chats/imopenlines-crm-chat-get-last-id.md) — and the message goes into
it on the worker's behalf (``imopenlines.crm.message.add``). No chat for the deal (``CRM_CHAT_EMPTY_CRM_DATA``),
no open lines on the portal, or no ``imopenlines`` scope: the deal's manager gets a notification instead
(``im.notify.system.add``), so someone can call the client — unless the manager is the worker himself (a
rep's own visit). Sent with the worker's own token."""
from __future__ import annotations

from b24app.errors import B24Error

NO_CHANNEL = {"CRM_CHAT_EMPTY_CRM_DATA", "ERROR_METHOD_NOT_FOUND", "INSUFFICIENT_SCOPE", "CHAT_NOT_IN_CRM",
              "CANCELED", "ACCESS_DENIED"}


def _text(lang: str, title: str, eta: int | None, when: str) -> tuple[str, str]:
    """(to the client, to the manager)."""
    if lang == "en":
        client = "Hello! Our specialist is on the way to you" + (f", arriving in about {eta} min." if eta else ".")
        return client, f"{title}: the field worker set off to the client at {when}; the client has no connected " \
                       "channel, please let them know."
    client = "Здравствуйте! Наш специалист выехал к вам" + (f", будет примерно через {eta} мин." if eta else ".")
    return client, f"{title}: выездной сотрудник выехал к клиенту в {when}; у клиента нет подключённого канала " \
                   "связи — предупредите его, пожалуйста."


def on_my_way(client, owned, lang: str, when: str, eta: int | None = None) -> dict:
    """Tell the client (or, without a channel, the manager). Returns {channel, id}."""
    to_client, to_manager = _text(lang, owned.title or f"#{owned.id}", eta, when)
    if owned.chat:                      # a job: its deal's chat; a visit: its company's
        entity, entity_id = owned.chat
        try:
            chat = int(client.call("imopenlines.crm.chat.getLastId", {"CRM_ENTITY_TYPE": entity,
                                                                      "CRM_ENTITY": entity_id}))
            mid = client.call("imopenlines.crm.message.add", {
                "CRM_ENTITY_TYPE": entity, "CRM_ENTITY": entity_id, "USER_ID": owned.worker_id, "CHAT_ID": chat,
                "MESSAGE": to_client})
            return {"channel": "client", "chat_id": chat, "id": mid}
        except B24Error as exc:
            if exc.code.upper() not in NO_CHANNEL and exc.status not in (401, 403, 404):
                raise
    if not owned.manager_id or owned.manager_id == owned.worker_id:     # a rep's own visit: nobody else to tell
        return {"channel": "none", "id": None}
    nid = client.call("im.notify.system.add", {"USER_ID": owned.manager_id, "MESSAGE": to_manager,
                                               "TAG": f"b24app|on_way|{owned.kind}|{owned.id}"})
    return {"channel": "manager", "user_id": owned.manager_id, "id": nid}
