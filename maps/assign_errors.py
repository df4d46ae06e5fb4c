"""Why dispatching cannot do what was asked: the errors of maps.assign and maps.booking_rules (a module of
their own so the rules and the assignment both import them without a cycle). handlers/errors.py answers
them; their text says it to a person, in Russian and English where raised with ``said``."""
from __future__ import annotations


class AssignError(ValueError):
    """Dispatching cannot do what was asked; the subclass says why (handlers/errors.py answers it), the
    text says it to a person (the assign robot logs it)."""

    @property
    def description(self) -> str:
        return str(self)


class NotAJob(AssignError):
    """The deal is not an open deal of our pipelines (or not this portal's)."""


class NoCoordinates(AssignError):
    """The job's address is not placed yet: no distance to rank or route by."""


class NotInTeam(AssignError):
    """The person is not one of the field team the job may go to."""


class NoWindow(AssignError):
    """The worker has no free window for the job in the days looked at."""


class BadDays(AssignError):
    """The slots grid spans 1 to 31 days."""


class PortalRefused(AssignError):
    """The portal refused a command of the assignment batch (halted: nothing after it ran)."""
