"""python -m casefold_events_schemas [--check] [--dir DIR]."""

import sys

from casefold_events_schemas.export import main

sys.exit(main())
