"""Service layer: batch handlers that load state, call the domain and record outcomes."""
