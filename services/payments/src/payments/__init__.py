"""The payments service: direct payment schedules, provider invoices, payment runs, bank files out and statements in."""
