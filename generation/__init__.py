"""Visual-to-sound generation: data preparation, SampleRNN models, training and sampling.

Imports nothing from Django, so a GPU machine can train with this package alone.
"""

SAMPLE_RATE = 16_000
SAMPLES_PER_FRAME = 1024
# One video frame spans a whole number of audio samples (and so of coarse SampleRNN steps).
FPS = SAMPLE_RATE / SAMPLES_PER_FRAME  # 15.625
