ALTER TABLE runs DROP COLUMN instructed_on;
