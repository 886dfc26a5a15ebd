"""The study platform: a Django project and its single app (studies, stimuli, participants, responses)."""
