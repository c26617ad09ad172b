"""The support program's SLA engine: business calendars, policies, and the clocks they drive."""
