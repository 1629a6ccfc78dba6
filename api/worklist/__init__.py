"""worklist domain of the HTTP API: who needs the care worker's attention today, and why."""
