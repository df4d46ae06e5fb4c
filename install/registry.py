"""Typed look-ups of the ids the installer recorded for a portal — how features find entityTypeIds,
category and stage ids and UF names without ever hard-coding them (they differ on every portal).

    ids = installed_ids(store, member_id)
    ids.smart_process("visit").entity_type_id      # 128 here, 1036 there
    ids.stage("visit", "in_work")                   # "DT128_7:IN_WORK"
    ids.field("visit", "visit_date")                # "ufCrm5VisitDate" (crm.item.* camelCase)
    ids.deal_field("worker")                        # "UF_CRM_B24APP_WORKER" (crm.deal.* UPPER_CASE)
    ids.pipeline("installation").stage("job_started")

A missing key raises ``NotInstalled`` naming what is missing and what to do, instead of a KeyError deep
inside a feature.
"""
from __future__ import annotations

from dataclasses import dataclass

from .apply import KV_KEY
from .params import uf_camel


class NotInstalled(LookupError):
    """The portal has no such installed object: the app was not installed (or not completely)."""

    def __init__(self, member_id: str, what: str):
        super().__init__(f"portal {member_id}: {what} is not installed — run `b24app install {member_id}`")
        self.member_id, self.what = member_id, what


@dataclass(frozen=True)
class PipelineIds:
    member_id: str
    key: str
    category_id: int
    stages: dict

    def stage(self, key: str) -> str:
        try:
            return self.stages[key]
        except KeyError:
            raise NotInstalled(self.member_id, f"stage {key!r} of {self.key}") from None

    def stage_key(self, status_id: str) -> str | None:
        """Our key of a portal STATUS_ID (e.g. "C3:JOB_STARTED" → "job_started"), None if not ours."""
        return next((k for k, v in self.stages.items() if v == status_id), None)


@dataclass(frozen=True)
class SmartProcessIds(PipelineIds):
    type_id: int
    entity_type_id: int
    fields: dict
    field_names: dict
    enums: dict

    @property
    def document_type(self) -> str:
        """``DYNAMIC_<entityTypeId>``: the name used in placement codes and robot document types."""
        return f"DYNAMIC_{self.entity_type_id}"

    def field(self, key: str) -> str:
        try:
            return self.fields[key]
        except KeyError:
            raise NotInstalled(self.member_id, f"field {key!r} of {self.key}") from None

    def enum_id(self, field_key: str, xml_id: str) -> int:
        """The portal's id of an enumeration item (what crm.item.add takes) by our xml_id."""
        try:
            return int(self.enums[field_key][xml_id])
        except KeyError:
            raise NotInstalled(self.member_id, f"value {xml_id!r} of field {field_key!r} of {self.key}") from None

    def field_name(self, key: str) -> str:
        try:
            return self.field_names[key]
        except KeyError:
            raise NotInstalled(self.member_id, f"field {key!r} of {self.key}") from None


@dataclass(frozen=True)
class InstalledIds:
    member_id: str
    data: dict

    @property
    def version(self) -> int | None:
        return self.data.get("version")

    @property
    def complete(self) -> bool:
        return bool(self.data.get("complete"))

    def smart_process(self, key: str) -> SmartProcessIds:
        sp = self.data.get("smart_processes", {}).get(key)
        if not sp:
            raise NotInstalled(self.member_id, f"smart process {key!r}")
        return SmartProcessIds(self.member_id, key, sp.get("categoryId"), sp.get("stages", {}),
                               int(sp["typeId"]), int(sp["entityTypeId"]), sp.get("fields", {}),
                               sp.get("fieldNames", {}), sp.get("enums", {}))

    def pipeline(self, key: str) -> PipelineIds:
        p = self.data.get("pipelines", {}).get(key)
        if not p:
            raise NotInstalled(self.member_id, f"pipeline {key!r}")
        return PipelineIds(self.member_id, key, int(p["categoryId"]), p.get("stages", {}))

    def pipeline_of_category(self, category_id: int) -> PipelineIds | None:
        """Which of our deal pipelines a deal's CATEGORY_ID is (None for the admin's own pipelines)."""
        for key, p in self.data.get("pipelines", {}).items():
            if int(p["categoryId"]) == int(category_id):
                return self.pipeline(key)
        return None

    def stage(self, owner: str, key: str) -> str:
        """A stage of a smart process or a deal pipeline by our keys."""
        if owner in self.data.get("smart_processes", {}):
            return self.smart_process(owner).stage(key)
        return self.pipeline(owner).stage(key)

    def field(self, smart_process: str, key: str) -> str:
        return self.smart_process(smart_process).field(key)

    def _entity_field(self, entity: str, key: str, camel: bool) -> str:
        name = self.data.get(f"{entity}_fields", {}).get(key)
        if not name:
            raise NotInstalled(self.member_id, f"{entity} field {key!r}")
        return uf_camel(name) if camel else name

    def deal_field(self, key: str, camel: bool = False) -> str:
        """UPPER_CASE for crm.deal.*; ``camel=True`` for crm.item.* with entityTypeId 2."""
        return self._entity_field("deal", key, camel)

    def company_field(self, key: str, camel: bool = False) -> str:
        return self._entity_field("company", key, camel)


def installed_ids(store, member_id: str) -> InstalledIds:
    data = store.kv.get(member_id, KV_KEY)
    if not data:
        raise NotInstalled(member_id, "b24app")
    return InstalledIds(member_id, data)
