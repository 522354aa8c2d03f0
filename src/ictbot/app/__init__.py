"""Application layer: settings, configuration manager, orchestrator, background tasks, facade."""
