"""Drills: the shared scenarios (and a practice's own) run through the real pipeline, each
rolled back at its end, every expectation checked and timed (``clinicline drill``)."""
