"""The minute cycle: new data scored, then the clock conditions."""
