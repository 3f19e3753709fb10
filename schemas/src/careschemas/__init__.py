"""Wire contracts shared by every service: envelope, events, commands and their registry."""
