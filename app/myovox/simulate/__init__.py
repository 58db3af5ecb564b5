"""Communication-rate simulator: a simulated patient types real phrases through the real speller."""
