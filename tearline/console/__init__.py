"""The facilitator's web console: a live tabletop exercise in the browser, one page per agency,
on the same exercise engine as ``tearline exercise``."""

from ._app import LEAD_KINDS, create_app
from ._serve import Background, serve_console
from ._session import Session

__all__ = ["LEAD_KINDS", "Background", "Session", "create_app", "serve_console"]
