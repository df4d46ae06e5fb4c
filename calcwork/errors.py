"""What the calculation → work flow refuses, in words of the portal's language; no HTTP status here
(handlers/errors.py maps each class once)."""
from __future__ import annotations

from .strings import text


class CalcError(Exception):
    """Base: ``key`` names the words in calcwork/strings.py, the message is already in the person's language."""

    def __init__(self, lang: str | None, key: str, **values):
        super().__init__(text(lang, key, **values))
        self.key = key


class CalcInvalid(CalcError):
    """The request cannot be carried out as given (empty text, a bad variant line, no recipient)."""


class CalcNotFound(CalcError):
    """No such deal, calculation, work or variant (of this portal)."""


class CalcConflict(CalcError):
    """The step does not fit where the calculation or the work is now (taken by another, wrong stage)."""


class NotInGroup(CalcError):
    """The person may do this kind of step, but not on this calculation or work (not its engineer/group)."""


class ApprovalRequired(CalcError):
    """An amount beyond the range the administrator allows without the head's approval."""


class NotPaid(CalcError):
    """"Work only after payment" (the portal's setting) and 1C does not show the deal paid in full."""
