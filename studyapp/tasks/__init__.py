"""Study task types, one module each (what a trial of that type shows, how it is answered, scored,
exported and simulated), found by name through the registry. Django-free: plain values in, plain
values out; the services, selectors and pages ask the type instead of branching on its name."""

from studyapp.tasks import registry
from studyapp.tasks.base import Answer, AnswerError, Shown, TaskType
from studyapp.tasks.fidelity_rating import FidelityRating
from studyapp.tasks.ranking import Ranking
from studyapp.tasks.sync_rating import SyncRating
from studyapp.tasks.turing_2afc import Turing2AFC
from studyapp.tasks.turing_single import TuringSingle

for _type in (Turing2AFC(), TuringSingle(), SyncRating(), FidelityRating(), Ranking()):
    registry.register(_type)

__all__ = ["Answer", "AnswerError", "Shown", "TaskType", "registry"]
