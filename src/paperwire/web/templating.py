"""The one Jinja2 environment for HTML pages, partials and mails shown on the web."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=TEMPLATES_DIR)

# csrf_field(request), csrf_token(request), current_user(request) and the community partials.
from paperwire.web.account_globals import install_account_globals  # noqa: E402

install_account_globals(templates.env)

from paperwire.web.library_globals import install_library_globals  # noqa: E402

install_library_globals(templates.env)
