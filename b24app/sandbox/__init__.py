"""Local Bitrix24 portal emulator: REST, OAuth server, event delivery, portal page, faults, demo data."""
