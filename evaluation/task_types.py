"""The names of the study task types, Django-free, so that the analysis of an export (here) and the
study platform (`studyapp.tasks`, where each type's behaviour lives) speak of the same things."""

TURING_2AFC = "turing_2afc"
TURING_SINGLE = "turing_single"
SYNC_RATING = "sync_rating"
FIDELITY_RATING = "fidelity_rating"
RANKING = "ranking"

TITLES = {
    TURING_2AFC: "Turing test, two alternatives (which video has the real sound?)",
    TURING_SINGLE: "Turing test, single stimulus (real or generated?)",
    SYNC_RATING: "Synchronisation ratings (1–5)",
    FIDELITY_RATING: "Fidelity ratings (1–5)",
    RANKING: "Ranking of soundtracks",
}
