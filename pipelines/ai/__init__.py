"""Offline AI helpers of the pipelines: mapping suggestions (:mod:`pipelines.ai.suggest`) and
the anomaly guard (:mod:`pipelines.ai.guard`). Pure Python, no network, no model downloads."""
