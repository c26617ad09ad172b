"""How the on-call rota plugs into the portal (filled in as the rota pages land)."""
