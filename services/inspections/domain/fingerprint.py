"""Content hashes for idempotency keys chosen by clients."""

import hashlib
import json

from pydantic import BaseModel


def fingerprint(request: BaseModel) -> str:
    """Content hash that tells a retried request from a different one reusing its id. The actor
    is left out: the same content sent again by a colleague is still a retry."""
    content = request.model_dump(mode="json", exclude={"actor"})
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
