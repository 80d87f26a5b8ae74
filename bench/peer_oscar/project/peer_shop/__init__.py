"""django-oscar as a shop of its own, for the bench's peer comparison (bench/peer_oscar/)."""
