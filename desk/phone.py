"""Russian phone numbers as a dispatcher types them (+7/8/7, spaces, dashes, brackets) → one form."""
from __future__ import annotations

import re


class PhoneError(ValueError):
    """Not a phone number: the endpoint answers 400 with this message."""


_ALLOWED = re.compile(r"^\+?[\d\s()\-.]+$")


def normalise(raw) -> str:
    """``+7 (916) 123-45-67`` / ``8 916 1234567`` / ``9161234567`` → ``+79161234567``; other countries'
    numbers (11–15 digits after a ``+``) keep their digits. Anything else raises PhoneError."""
    text = str(raw or "").strip()
    if not text:
        raise PhoneError("phone: a phone number is required")
    if not _ALLOWED.match(text):
        raise PhoneError(f"phone: {text!r} is not a phone number (digits, +, spaces, dashes, brackets)")
    d = "".join(ch for ch in text if ch.isdigit())
    if len(d) == 10 and not text.startswith("+"):
        d = "7" + d
    elif len(d) == 11 and d[0] == "8" and not text.startswith("+"):
        d = "7" + d[1:]
    if len(d) == 11 and d[0] == "7":
        return "+" + d
    if text.startswith("+") and 11 <= len(d) <= 15:
        return "+" + d
    raise PhoneError(f"phone: {text!r} is not a phone number (a Russian number has 10 digits after +7 or 8)")


def search_values(phone: str) -> list[str]:
    """What ``crm.duplicate.findbycomm`` is asked for: the number as +7… and as 8… (a portal normalises
    both, the second form also finds numbers an older import stored without a country code)."""
    if phone.startswith("+7") and len(phone) == 12:
        return [phone, "8" + phone[2:]]
    return [phone]
