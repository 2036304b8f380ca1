"""Content hashes for idempotency: ids chosen by clients, and the steps taken on an item."""

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from contracts.reasons import Reason
from services.inspections.domain.refusals import Refusal


def fingerprint(request: BaseModel) -> str:
    """Content hash that tells a retried request from a different one reusing its id. The actor
    is left out: the same content sent again by a colleague is still a retry."""
    return _digest(request.model_dump(mode="json", exclude={"actor"}))


def step_fingerprint(action: str, request: BaseModel) -> str:
    """The hash of one step on an item, its action and content (the actor left out, as above):
    an item keeps its last step's, so that step sent again is known for a retry."""
    return _digest(
        {"action": action, "request": request.model_dump(mode="json", exclude={"actor"})}
    )


def is_retry(refusal: Refusal, last_step: str | None, step: str) -> bool:
    """Whether a step the item's state no longer allows is the step last applied to it, sent
    again (its answer lost on the way): it is answered with the item as it is, as the first time
    was, rather than 409 invalid_transition. Only a state refusal is: the actor's right to take
    the step is checked before the state, so a retry never lets anyone do more."""
    return refusal.code is Reason.INVALID_TRANSITION and last_step == step


def _digest(content: Any) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
