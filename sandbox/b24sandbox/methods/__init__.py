"""REST methods of the sandbox portal: importing this package imports every module in it, so a new
``methods/<area>.py`` that registers with ``@method`` is picked up without touching this file."""
from __future__ import annotations

import importlib
import pkgutil

for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_info.name}")
