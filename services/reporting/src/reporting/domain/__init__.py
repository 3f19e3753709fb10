"""Pure, synchronous helpers of the reporting service (no I/O): account ids, periods, progress."""
