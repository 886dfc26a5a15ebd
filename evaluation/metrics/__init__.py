"""Objective metrics of generated soundtracks, beside the human judgements: synchronisation
(sync.py), fidelity (spectral.py, classifier.py) and likelihood (nll.py); run.py puts them together
for `python -m evaluation metrics`."""
