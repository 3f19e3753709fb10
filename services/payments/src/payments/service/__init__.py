"""Service layer of payments: the batch handler, command handlers, the due-date timer, runs and statements."""
