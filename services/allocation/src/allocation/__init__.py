"""The allocation service: checks a council's budget decisions against the rules and records them as events."""
