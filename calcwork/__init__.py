"""Calculation → work (seed 002): robots that hand a measured deal to Calculation and order its Work,
as child items of the installed smart processes (install/app.json)."""
