"""Deal rules (issue 15, seed 004): business-day reminders and escalations, tasks, order numbers and stage
guards, declared per portal as a validated document and evaluated from the event inbox and the scheduler
with a ledger, so each rule fires once per change."""
