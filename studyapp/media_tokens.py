"""The names a participant's browser fetches stimuli by: one opaque token per participant, trial and
position, an HMAC under the server's SECRET_KEY. The same stimulus has another URL in every trial of
every participant, so comparing sessions or trials tells nothing; the server resolves a token only
for the participant whose session (or, in MTurk's frame, participant token) asks
(selectors.participant_stimulus)."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

TOKEN_HEX = 32  # 128 bits, the shape of every opaque id here


def media_token(participant_public_id: str, trial_pk: int, position: int) -> str:
    message = f"vis2sound.media:{participant_public_id}:{trial_pk}:{position}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:TOKEN_HEX]
