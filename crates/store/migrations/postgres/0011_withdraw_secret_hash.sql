-- A patient's own withdrawal (the one-time code on their receipt): only the SHA-256 of the code
-- the widget made, hex, never the code itself. NULL for responses sent without one, and for
-- sites with self-withdrawal off (withdraw_days = 0). Never read by reports or exports.
ALTER TABLE responses ADD COLUMN withdraw_hash TEXT;
