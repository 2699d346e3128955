"""Publishing a new model: training jobs, the quality gate, versions and rollback."""
