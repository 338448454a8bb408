"""pipelines/ai"""
