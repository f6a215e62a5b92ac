"""`recur serve`, `recur worker`, `recur token …`: the running service."""
