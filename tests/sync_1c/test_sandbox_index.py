"""The 1C sandbox's shortcuts (key index, query cache) change no answer: checked against a full scan and
across writes, over HTTP."""
from __future__ import annotations

from b24sandbox.onec.filters import compile_filter

A, B = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


def test_candidate_keys_only_when_every_match_must_have_one():
    keys = lambda f: compile_filter(f).keys  # noqa: E731
    assert keys(f"Ref_Key eq guid'{A}' or Ref_Key eq guid'{B}'") == {("Ref_Key", A), ("Ref_Key", B)}
    assert keys(f"(Ref_Key eq guid'{A}' or Ref_Key eq guid'{B}') and Posted eq true") == {("Ref_Key", A),
                                                                                          ("Ref_Key", B)}
    # a register's key dimension compared with cast(…) (InformationRegister_СостоянияЗаказовКлиентов.Заказ)
    assert keys(f"Заказ eq cast(guid'{A}', 'Document_ЗаказКлиента') or Заказ eq cast(guid'{B}', 'Document_X')") \
        == {("Заказ", A), ("Заказ", B)}
    assert keys(f"Ref_Key eq guid'{A}' and Ref_Key eq guid'{B}'") == set()
    assert keys(f"Ref_Key eq guid'{A}' or Posted eq true") is None
    assert keys(f"not (Ref_Key eq guid'{A}')") is None
    assert keys(f"Ref_Key ne guid'{A}'") is None
    assert keys("Posted eq true") is None


def test_key_lookups_and_pages_match_a_scan_and_follow_writes(onec, client):
    ib = onec.infobase
    orders = [ib.add_order(100 + i, f"2025-03-{1 + i % 20:02d}T10:00:00") for i in range(30)]
    picked = orders[3:9]
    by_keys = client.get_by_keys("Document_ЗаказКлиента", picked + ["33333333-3333-3333-3333-333333333333"],
                                 select="Ref_Key,СуммаДокумента")
    assert sorted(by_keys) == sorted(picked)
    flt = "Date ge datetime'2025-03-05T00:00:00'"
    paged = [r["Ref_Key"] for r in client.iter_all("Document_ЗаказКлиента", filter=flt, select="Ref_Key,Date",
                                                   orderby="Date asc,Ref_Key asc", page_size=4)]
    scan = sorted((r for r in ib.rows["Document_ЗаказКлиента"].values() if r["Date"] >= "2025-03-05"),
                  key=lambda r: (r["Date"], r["Ref_Key"]))
    assert paged == [r["Ref_Key"] for r in scan]
    ib.update(picked[0], Date="2025-03-25T10:00:00")            # a write between two identical queries
    ib.delete(picked[1])
    again = [r["Ref_Key"] for r in client.iter_all("Document_ЗаказКлиента", filter=flt, select="Ref_Key",
                                                   orderby="Date asc,Ref_Key asc", page_size=4)]
    rescan = sorted((r for r in ib.rows["Document_ЗаказКлиента"].values() if r["Date"] >= "2025-03-05"),
                    key=lambda r: (r["Date"], r["Ref_Key"]))
    assert picked[0] not in paged and picked[1] in paged
    assert again == [r["Ref_Key"] for r in rescan] and again[-1] == picked[0] and picked[1] not in again
    assert sorted(client.get_by_keys("Document_ЗаказКлиента", picked[:2])) == [picked[0]]
