"""A tiny domain that shows the contract: one package with ``plugin(registry)``, enabled by one line
(``B24APP_DOMAINS``/``Settings.domains`` or ``b24app.domains.DOMAINS``). tests/test_example_domain.py
builds the app with it."""
