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
* the 1C emulator (a real local HTTP server emulating a published УТ 11.5 / 11.4, БП 3.0 or УНФ infobase)
                lives beside the Bitrix24 one, in `b24sandbox.onec` (sandbox/, development only).
* `ledger_store`, `matching`, `sync` — our ledger, order ↔ deal, the full sync (`run`) and the scoped one
                (`run_for_deal`, for the robot and the gate); `gate` — the paid gate (money only from 1C);
                `pipeline_settings` — per-pipeline gate / auto-forward checked against installed ids;
                `jobs` — periodic pull, the 1C push (dedup that lets a changed document be pulled again).
"""
