"""Visits of territorial sales managers to companies (the "Посещение" smart process): kanban rules run by
the scheduler, creation from the company card / robot / map / phone, calendar sync, pages' data."""
