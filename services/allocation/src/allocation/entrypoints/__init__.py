"""Thin entry points: worker, relay, budget views, policy tool."""
