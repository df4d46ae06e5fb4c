"""What the worker taps on his phone, applied to Bitrix24 exactly once.

Each action arrives with the id the phone generated when it was tapped (the phone keeps it in its offline
queue and sends it again until it gets an answer), the time of the tap and, when the phone gave one, its
position. ``apply`` checks the input (``BadAction`` → 400, nothing written), that the item is the worker's
own (``day.NotYours`` → 403), claims the id in ``field_actions`` (a replay answers from the ledger with no
portal call), then runs the action's portal steps one by one, each recorded before the next, so a retry
after a failure does only the steps left:

- ``on_way``   the client is told (field/notify.py); travel starts.
- ``started``  the deal moves to the pipeline's "job started" stage (maps' stages), the job's Bitrix24 task
               gets time tracking (ALLOW_TIME_TRACKING) and goes In progress (``tasks.task.start``); travel
               minutes = started − on my way (else since the previous finish or the shift start, maps.stats).
- ``finished`` the deal moves to "job done"; the on-site time is recorded on the task
               (``task.elapseditem.add`` SECONDS = finished − started) and the task is completed
               (``tasks.task.complete``); on-site minutes recorded. Both facts also go to the map's job facts
               (maps_job_facts), which the dashboards' travel vs on-site figures read.
- ``photo`` / ``form``  the picture (or the client's signed form) as a file on the deal's timeline
               (``crm.timeline.comment.add`` FILES [[name, base64]]: stored on the portal's disk, not a link).
- ``comment``  a timeline comment.
- ``check_in`` / ``check_out``  the time and, when given, the position (a timeline comment with a map link).
"""
from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta

from b24app.errors import said
from maps import links as maps_links
from maps import mapstate
from maps import service as maps_service
from maps import stats as maps_stats

from . import notify
from .day import KINDS, NotFound, NotYours, Owned, status_of
from .ledger import FieldLedger, digest

ACTIONS = ("on_way", "started", "finished", "photo", "form", "comment", "check_in", "check_out")
ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
FILE_MAX_BYTES = 2 * 1024 * 1024           # the page scales a camera photo to 1600 px JPEG (≈ 0.3–0.6 MB)
COMMENT_MAX = 4000
FUTURE_SLACK = timedelta(minutes=10)          # a phone's clock may run a little ahead
OLDEST = timedelta(days=3)                    # a queue older than that is not today's work
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"RIFF")
TITLES = {
    "ru": {"photo": "Фото с объекта", "form": "Подписанный клиентом бланк", "comment": "Комментарий с выезда",
           "check_in": "Отметка: на месте", "check_out": "Отметка: ушёл с объекта",
           "no_pos": "телефон не дал координаты",
           "elapsed": "b24app: на объекте"},
    "en": {"photo": "Photo from the site", "form": "Form signed by the client", "comment": "Comment from the site",
           "check_in": "Checked in on site", "check_out": "Checked out", "no_pos": "the phone gave no position",
           "elapsed": "b24app: on site"},
}


class BadAction(ValueError):
    """What the phone sent cannot be an action (400, nothing written)."""


class FileTooLarge(BadAction):
    """A photo or a form larger than the limit (413)."""


class ActionConflict(Exception):
    """The action id was already used for a different action (409): the phone must generate a new id."""


class ActionBusy(Exception):
    """Another copy of this very action is being applied right now (409): the phone tries again later."""


def _bad(en: str, ru: str) -> BadAction:
    return BadAction(said(en, ru))


def parse(body, now: datetime, kinds: dict | None = None) -> dict:
    """The checked action, or BadAction naming the first problem."""
    kinds = kinds or KINDS
    if not isinstance(body, dict):
        raise _bad("a JSON object {id, action, kind, item, …} is expected",
                   "нужен JSON-объект {id, action, kind, item, …}")
    aid = body.get("id")
    if not isinstance(aid, str) or not ID_RE.match(aid):
        raise _bad("'id': 8–64 letters, digits, '-' or '_' generated on the phone",
                   "'id': 8–64 латинских букв, цифр, '-' или '_', созданных телефоном")
    action = body.get("action")
    if action not in ACTIONS:
        raise _bad(f"'action': one of {', '.join(ACTIONS)}", f"'action': одно из {', '.join(ACTIONS)}")
    kind = kinds.get(body.get("kind"))
    if kind is None:
        raise _bad(f"'kind': one of {', '.join(kinds)}", f"'kind': одно из {', '.join(kinds)}")
    if action not in kind.actions:
        raise _bad(f"a {kind.kind} has no action {action!r}", f"для «{kind.kind}» нет действия {action!r}")
    item = body.get("item")
    if isinstance(item, bool) or not isinstance(item, (int, str)) or not str(item).isdigit() or int(item) <= 0:
        raise _bad("'item': the job's id (a positive integer)", "'item': id выезда (целое больше нуля)")
    out = {"id": aid, "action": action, "kind": kind.kind, "item": int(item), "at": now, "lat": None, "lon": None,
           "comment": "", "file": None}
    if body.get("at") not in (None, ""):
        try:
            at = datetime.fromisoformat(str(body["at"]).replace("Z", "+00:00"))
        except ValueError:
            raise _bad("'at': an ISO time like 2026-01-14T10:05:00+03:00", "'at': время ISO, например "
                       "2026-01-14T10:05:00+03:00") from None
        if at.tzinfo is None:
            raise _bad("'at' needs its UTC offset", "во времени 'at' нужен часовой пояс")
        if at > now + FUTURE_SLACK or at < now - OLDEST:
            raise _bad("'at' is not a time of today's work (the phone's clock?)",
                       "время 'at' — не сегодняшняя работа (часы телефона?)")
        out["at"] = at.astimezone(UTC)
    lat, lon = body.get("lat"), body.get("lon")
    if (lat is None) != (lon is None):
        raise _bad("'lat' and 'lon' come together", "'lat' и 'lon' передаются вместе")
    if lat is not None:
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in (lat, lon)) \
                or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise _bad("'lat'/'lon': a position in degrees", "'lat'/'lon': координаты в градусах")
        out["lat"], out["lon"] = float(lat), float(lon)
    comment = body.get("comment")
    if comment is not None:
        if not isinstance(comment, str) or len(comment) > COMMENT_MAX:
            raise _bad(f"'comment': text up to {COMMENT_MAX} characters", f"'comment': текст до {COMMENT_MAX} символов")
        out["comment"] = comment.strip()
    if action == "comment" and not out["comment"]:
        raise _bad("the comment is empty", "комментарий пуст")
    if action in ("photo", "form"):
        out["file"] = _file(body.get("file"))
    elif body.get("file") is not None:
        raise _bad(f"'{action}' carries no file", f"у действия '{action}' не бывает файла")
    return out


def _file(f) -> dict:
    if not isinstance(f, dict) or not isinstance(f.get("name"), str) or not isinstance(f.get("content"), str):
        raise _bad("'file': {name, content (base64)} is expected", "'file': нужен {name, content (base64)}")
    name = re.sub(r"[\\/\x00-\x1f]", "_", f["name"].strip())[:120] or "photo.jpg"
    if len(f["content"]) > FILE_MAX_BYTES * 4 // 3 + 8:
        raise FileTooLarge(said(f"the file is larger than {FILE_MAX_BYTES // 2**20} MB",
                                f"файл больше {FILE_MAX_BYTES // 2**20} МБ"))
    try:
        raw = base64.b64decode(f["content"], validate=True)
    except (binascii.Error, ValueError):
        raise _bad("'file.content' is not base64", "'file.content' — не base64") from None
    if not raw or not raw.startswith(IMAGE_MAGIC):
        raise _bad("'file' is not a picture (JPEG, PNG, GIF, WebP)", "'file' — не изображение (JPEG, PNG, GIF, WebP)")
    if len(raw) > FILE_MAX_BYTES:
        raise FileTooLarge(said(f"the file is {len(raw) / 2**20:.1f} MB; the limit is {FILE_MAX_BYTES // 2**20} MB",
                                f"файл {len(raw) / 2**20:.1f} МБ; можно не больше {FILE_MAX_BYTES // 2**20} МБ"))
    return {"name": name, "content": f["content"], "size": len(raw)}


def apply(services, member_id: str, worker_id: int, body, lang: str = "ru", kinds: dict | None = None) -> dict:
    """Apply one action of ``worker_id`` (``services`` acts as him). Returns the answer the phone keeps:
    {id, state: applied|replayed, action, kind, item, job: {status, minutes…}, steps}."""
    kinds = kinds or KINDS
    zone = maps_service.tz(maps_service.settings(services, member_id))
    a = parse(body, services.now(UTC), kinds)
    kind = kinds[a["kind"]]
    ledger = FieldLedger(services.store.engine, member_id, clock=services.clock)
    known = {k: v for k, v in a.items() if k != "at"} | {"at": a["at"].isoformat()}
    seen = ledger.get(a["id"])
    if seen is not None and seen["status"] == "done" and seen["digest"] == digest(known) \
            and int(seen["worker_id"]) == int(worker_id):
        return _answer(ledger, a, "replayed", seen["steps"])          # a replay: no portal call at all
    owned = kind.owned(services, member_id, worker_id, a["item"])     # another's job: 403, nothing written
    claim = ledger.claim(a["id"], worker_id=worker_id, item_kind=a["kind"], item_id=a["item"], action=a["action"],
                         digest=digest(known), tapped_at=a["at"], lat=a["lat"], lon=a["lon"])
    if claim.state == "conflict":
        raise ActionConflict(said("this action id was already used for another action: send it with a new id",
                                  "этот id действия уже занят другим действием: отправьте с новым id"))
    if claim.state == "busy":
        raise ActionBusy(said("this action is being applied right now: try again in a minute",
                              "это действие сейчас выполняется: повторите через минуту"))
    if claim.state == "done":
        return _answer(ledger, a, "replayed", claim.steps)
    steps = dict(claim.steps)
    try:
        _run(services, member_id, ledger, kind, owned, a, steps, lang if lang in TITLES else "ru", zone)
    except Exception as exc:
        ledger.finish(a["id"], error=f"{type(exc).__name__}: {exc}")
        raise
    ledger.finish(a["id"])
    return _answer(ledger, a, "applied", steps)


def _step(ledger: FieldLedger, a: dict, steps: dict, name: str, fn):
    """Run one portal step unless an earlier try of this action already did it; record it at once."""
    if name in steps:
        return steps[name]
    value = fn()
    ledger.step(a["id"], name, value)
    steps[name] = value
    return value


def _comment(client, owned: Owned, text: str, files: list | None = None) -> int:
    fields = {"ENTITY_ID": owned.id, "ENTITY_TYPE": owned.entity_type, "COMMENT": text}
    if files:
        fields["FILES"] = files
    return int(client.call("crm.timeline.comment.add", {"fields": fields}))


def _run(services, member_id: str, ledger: FieldLedger, kind, owned: Owned, a: dict, steps: dict, lang: str, zone):
    client, t, action, at = services.client(member_id), TITLES[lang], a["action"], a["at"]
    job = ledger.job(a["kind"], a["item"]) or {}
    when = at.astimezone(zone).strftime("%H:%M")
    if action == "on_way":
        _step(ledger, a, steps, "notify", lambda: notify.on_my_way(client, owned, lang, when))
        ledger.set_job(a["kind"], a["item"], owned.worker_id, on_way_at=at)
    elif action == "started":
        _step(ledger, a, steps, "stage", lambda: kind.move(services, member_id, owned, "started"))
        if owned.task:
            _step(ledger, a, steps, "task_start", lambda: _task_start(client, owned.task))
        travel = _travel(services, member_id, owned, job, at)
        ledger.set_job(a["kind"], a["item"], owned.worker_id, started_at=at, travel_minutes=travel)
        if a["kind"] == "job":
            mapstate.job_started(services.store.engine, member_id, owned.id, at, owned.worker_id, travel)
    elif action == "finished":
        _step(ledger, a, steps, "stage", lambda: kind.move(services, member_id, owned, "finished"))
        started = job.get("started_at")
        seconds = max(0, int((at - started).total_seconds())) if started else None
        if owned.task and seconds is not None:
            _step(ledger, a, steps, "elapsed", lambda: client.call("task.elapseditem.add", {
                "TASKID": owned.task["id"],
                "ARFIELDS": {"SECONDS": seconds, "COMMENT_TEXT": f"{t['elapsed']} {seconds // 60} мин"
                             if lang == "ru" else f"{t['elapsed']} {seconds // 60} min"}}))
        if owned.task:
            _step(ledger, a, steps, "task_complete", lambda: _task_complete(client, owned.task))
        minutes = seconds // 60 if seconds is not None else None
        ledger.set_job(a["kind"], a["item"], owned.worker_id, finished_at=at, on_site_minutes=minutes)
        if a["kind"] == "job":
            mapstate.job_finished(services.store.engine, member_id, owned.id, at, minutes)
    elif action in ("photo", "form"):
        f = a["file"]
        text = t[action] + (f"\n{a['comment']}" if a["comment"] else "")
        _step(ledger, a, steps, "comment", lambda: _comment(client, owned, text, [[f["name"], f["content"]]]))
        ledger.set_job(a["kind"], a["item"], owned.worker_id)
    elif action == "comment":
        _step(ledger, a, steps, "comment", lambda: _comment(client, owned, f"{t['comment']}:\n{a['comment']}"))
        ledger.set_job(a["kind"], a["item"], owned.worker_id)
    elif action in ("check_in", "check_out"):
        if a["lat"] is not None:
            pos = f"{a['lat']:.6f}, {a['lon']:.6f} — {maps_links.yandex_point_link(a['lat'], a['lon'])}"
        else:
            pos = t["no_pos"]
        text = f"{t[action]} {when} ({pos})" + (f"\n{a['comment']}" if a["comment"] else "")
        _step(ledger, a, steps, "comment", lambda: _comment(client, owned, text))
        col = "checked_in_at" if action == "check_in" else "checked_out_at"
        ledger.set_job(a["kind"], a["item"], owned.worker_id, **{col: at})


def _task_start(client, task: dict):
    """Time tracking on for the task (its documented ALLOW_TIME_TRACKING field, so the on-site time recorded
    at the finish shows on it), then In progress (``tasks.task.start``)."""
    cmds = []
    if task.get("tracking") != "Y":
        cmds.append(("tasks.task.update", {"taskId": task["id"], "fields": {"ALLOW_TIME_TRACKING": "Y"}}))
    if task.get("status") != "3":
        cmds.append(("tasks.task.start", {"taskId": task["id"]}))
    if not cmds:
        return {"task": task["id"], "status": "3"}
    done = client.batch_many(cmds) if len(cmds) > 1 else None      # one request; both are safe to repeat
    if done is None:
        client.call(*cmds[0])
    else:
        failed = next((r.error for r in done if not r.ok), None)
        if failed is not None:
            raise failed
    return {"task": task["id"], "status": "3"}


def _task_complete(client, task: dict):
    got = client.call("tasks.task.complete", {"taskId": task["id"]})
    return {"task": task["id"], "status": str(((got or {}).get("task") or {}).get("status") or "5")}


def _travel(services, member_id: str, owned: Owned, job: dict, at: datetime) -> int | None:
    """Minutes from "on my way" to "started"; without an "on my way" tap, since the worker's previous finish
    that day or his shift start (maps.stats, the robots' convention)."""
    if job.get("on_way_at") and job["on_way_at"] <= at:
        return int((at - job["on_way_at"]).total_seconds() // 60)
    if owned.kind != "job":
        return None
    return maps_stats.travel_for_start(services, member_id, owned.worker_id, owned.id, at)


def _answer(ledger: FieldLedger, a: dict, state: str, steps: dict) -> dict:
    job = ledger.job(a["kind"], a["item"]) or {}
    return {"id": a["id"], "state": state, "action": a["action"], "kind": a["kind"], "item": a["item"],
            "steps": steps, "job": {"status": status_of(job), "travel_minutes": job.get("travel_minutes"),
                                    "on_site_minutes": job.get("on_site_minutes")}}


__all__ = ["ACTIONS", "ActionBusy", "ActionConflict", "BadAction", "FileTooLarge", "NotFound", "NotYours", "apply",
           "parse"]
