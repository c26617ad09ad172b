"""The week, frozen: metric snapshots of every ISO week, their trends and the weekly e-mail."""
