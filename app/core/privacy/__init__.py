"""Privacy: what is removed from text before it may leave the machine."""
