"""Routing of new conversations and cases: the rules engine (engine.py), what it reads about an
item and about people (facts.py, people.py), and the services that record and carry out a
decision (services.py)."""
