"""The field worker's phone (issue 14): his day in route order with navigation links, the taps of a job
(on my way, started, photos and the signed form, comment, finished, check-in/out) applied to Bitrix24 exactly
once from an offline queue, and the travel and on-site minutes they give."""
