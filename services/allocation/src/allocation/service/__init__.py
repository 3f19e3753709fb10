"""Service layer: the batch handler that loads state, calls the domain and records the outcome."""
