"""The one Jinja2 environment (autoescape on) shared by the demo site and the dashboard."""

from pathlib import Path

from starlette.templating import Jinja2Templates

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
