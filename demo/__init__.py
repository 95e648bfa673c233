"""The demo world: a small, seeded Photogram made through the real write paths (`make demo`)."""
