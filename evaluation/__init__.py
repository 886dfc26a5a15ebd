"""Evaluation: statistics of human judgements and objective metrics. Imports nothing from Django."""
