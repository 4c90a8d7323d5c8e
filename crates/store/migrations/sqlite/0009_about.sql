-- The optional "About you" answers (equality monitoring) sent beside a response: a JSON object
-- of question id -> answer id, checked against the core's about-you instrument. Kept in their
-- own column, apart from the answers and their free text: reports read them only for gap
-- tables, and the responses export never includes them.
ALTER TABLE responses ADD COLUMN about TEXT;
