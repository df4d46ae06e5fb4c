"""What a manager does on the visit page: enter the result (+ comment and photo) and close the visit,
edit the company's fields in place. Each is one batch call, so a phone on a weak network makes one
round trip per tap.
"""
from __future__ import annotations

import base64

from b24app.errors import B24Error
from install.registry import NotInstalled, installed_ids

from .create import CreateError

MAX_PHOTO_BYTES = 8 * 1024 * 1024


def save_result(services, member_id: str, visit_id: int, result: str, comment: str = "",
                photo: dict | None = None, lang: str = "ru") -> dict:
    """Result field + stage *Visit done* + a timeline comment (the comment and the photo, as FILES)."""
    result = str(result or "").strip()
    if not result:
        raise CreateError("the result is required" if lang != "ru" else "введите результат визита")
    v = installed_ids(services.store, member_id).smart_process("visit")
    cmds = {"upd": ("crm.item.update", {"entityTypeId": v.entity_type_id, "id": int(visit_id),
                                        "fields": {v.field("result"): result, "stageId": v.stage("done")}})}
    text = ("Результат визита: " if lang == "ru" else "Visit result: ") + result
    if comment:
        text += "\n" + str(comment)
    fields = {"ENTITY_ID": int(visit_id), "ENTITY_TYPE": f"dynamic_{v.entity_type_id}", "COMMENT": text}
    if photo and photo.get("content"):
        raw = str(photo["content"]).split(",", 1)[-1]           # a data: URL or bare base64
        try:
            size = len(base64.b64decode(raw, validate=True))
        except ValueError:
            raise CreateError("the photo is not base64") from None
        if size > MAX_PHOTO_BYTES:
            raise CreateError("the photo is larger than 8 MB")
        fields["FILES"] = [[str(photo.get("name") or "photo.jpg")[:100], raw]]
    cmds["comment"] = ("crm.timeline.comment.add", {"fields": fields})
    res = services.client(member_id).batch(cmds, halt=True)
    if res.errors:
        err = next(iter(res.errors.values()))
        if isinstance(err, B24Error) and err.code == "NOT_FOUND":
            raise CreateError(f"visit {visit_id} not found")
        raise err
    return {"id": int(visit_id), "stage": "done", "comment_id": res.result.get("comment")}


def update_company(services, member_id: str, company_id: int, changes: dict) -> dict:
    """Only the fields the page offers are written (TITLE, ADDRESS, COMMENTS, region)."""
    ids = installed_ids(services.store, member_id)
    allowed = {"TITLE": "TITLE", "ADDRESS": "ADDRESS", "COMMENTS": "COMMENTS"}
    try:
        allowed["region"] = ids.company_field("region")
    except NotInstalled:
        pass
    fields = {allowed[k]: str(val or "")[:2000] for k, val in (changes or {}).items() if k in allowed}
    if not fields:
        raise CreateError("nothing to change: editable fields are " + ", ".join(sorted(allowed)))
    if "TITLE" in fields and not fields["TITLE"].strip():
        raise CreateError("the company name cannot be empty")
    services.client(member_id).call("crm.company.update", {"id": int(company_id), "fields": fields})
    return {"id": int(company_id), "changed": sorted(k for k in changes if k in allowed)}
