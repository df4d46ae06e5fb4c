"""Dashboards and exports: visits by region and plan vs fact per employee (Visit smart-process items read
from the portal), jobs per worker (maps.stats facts), each table as CSV. Reads only; nothing is cached."""
