"""1C side of issue 6 — customer payments pulled from 1C:Enterprise by order (number), for Bitrix24 deals.

How the pieces fit (1C is the system of record for money, Bitrix24 for deals):

* `odata`     — read-only client for 1C's standard OData v3 interface (`/odata/standard.odata/`):
                hand-built `%20` query strings, v3 literals, UTF-8 Basic auth, `odata.error` → ODataError,
                HTML/non-JSON answers → ODataBadResponse, retries on connection errors/5xx, `$top/$skip` paging.
* `profiles`  — per-configuration names (УТ 11.5 / ERP 2.5, УТ 11.4 / ERP 2.4, БП 3.0, УНФ): payment entity
                sets, operation values for receipt vs refund, how a row links to its order;
                `check_against_metadata` is run once at start-up against the base's `$metadata`.
* `numbers`   — order numbers as typed by people vs stored by 1C (prefix, zeros, look-alike letters,
                yearly restart → match key includes the order's year).
* `payments`  — the pure model: `Payment` (Decimal, UTC), `ledger_state`/`Ledger` per order, idempotent by
                `Ref_Key` (re-reading an un-posted or deleted document retracts its money).
* `reader`    — profile-driven pull: a local-time `Date` window of payment documents → rows resolved to
                orders (via `Catalog_ОбъектыРасчетов` or the composite `Заказ`) → `Payment` objects.
* `sandbox`   — a real local HTTP server emulating a published УТ 11.5 / 11.4 infobase, for tests and demos.

What comes next (needs the platform core — store, PortalClient, scheduler):
1. a `matching` module: deal ↔ order binding (store the order `Ref_Key` on the deal once known; until then
   `numbers.match_key` on the deal's typed number + the deal's year; ambiguity → manual queue);
2. a `sync` job on the scheduler: sliding look-back window (30–45 days) + `DataVersion` diff per `Ref_Key`,
   persisted ledger in the store, weekly disappearance check (404 / code 9 → `Ledger.forget`);
3. pushing the *desired state* per deal (amount paid, paid-in-full flag, last payment date) into
   integration-owned UF fields only, skipping unchanged hashes; the "paid gate" that forbids closing a deal
   until it is paid in full reads those fields;
4. reconciliation against `InformationRegister_СостоянияЗаказовКлиентов.СуммаОплаты` (storno, netting and
   corrections are not netted by document-level summing — see profiles.UT_11_5.notes).
"""
