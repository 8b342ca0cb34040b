"""Views: plans and diagnostics rendered as text, JSON, markdown or GitHub annotations."""
