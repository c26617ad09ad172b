"""The disputes pages, one module per page: markets, rulebook, the case list, the case page
(cases), and the forms posted from the case page about decisions, evidence and replies."""
