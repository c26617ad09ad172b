"""What disputes announces about cases, for the apps above it (support's SLA clocks) that must
not be imported here.

`case_changed` is sent inside the transaction of the change, after the case row and its history
event are written, with `case` (the DisputeCase, its account loaded) and `what`: "filed",
"status" (a move along the workflow, reopening included), "assigned" (a new assignee, or none),
"reply" (a reply kept in the history, sent to the user or not) or "decided" (a decision
recorded). A receiver that writes takes part
in that transaction: when it raises, the change is not saved."""

from django.dispatch import Signal

case_changed = Signal()
