-- The day a payment run instructed its payments (the CreatePaymentRun command's effective date, which every
-- PaymentInstructed of the run carries): a settlement or return the bank dates before it is refused
-- BEFORE_INSTRUCTION. Runs made before this migration keep NULL and are not checked.
ALTER TABLE runs ADD COLUMN instructed_on date;
