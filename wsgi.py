import sys

from marketplace import create_app
from marketplace.config_check import ConfigurationError

try:
    app = create_app()
except ConfigurationError as refused:
    # The list of settings to fix, on stderr with exit status 1, instead of a traceback (flask CLI and gunicorn).
    sys.exit(str(refused))
