"""Who may read and change dispute material."""

from portal.roles import Role

# Who works with markets and the rulebook. Product reads playbooks, not case material.
RULE_READERS = (Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN)
MARKET_WRITERS = (Role.SPECIALIST, Role.ADMIN)
RULEBOOK_EDITORS = (Role.ADMIN,)
