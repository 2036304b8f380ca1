"""Console logs render an exception as a plain traceback: rich's default renders every frame's
locals through a syntax highlighter on the event loop, about four seconds for one SQLAlchemy
error on two cores, which stalled services through a database outage."""

import io
import logging

from services.runtime import logs


def test_console_logs_render_exceptions_as_plain_tracebacks() -> None:
    logs.configure("INFO", "console", "probe")
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    bulky = {"rows": list(range(1000))}  # a local rich would have rendered
    try:
        raise RuntimeError(f"database gone with {len(bulky)} objects in hand")
    except RuntimeError:
        logging.getLogger("probe").error("request failed", exc_info=True)
    text = stream.getvalue()
    assert "Traceback (most recent call last):" in text
    assert "RuntimeError: database gone" in text
    assert "locals" not in text and "999" not in text
