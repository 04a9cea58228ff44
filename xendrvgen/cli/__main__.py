"""`python -m xendrvgen.cli`: the same as the `xendrvgen` console script."""
import sys

from .dispatch import main

sys.exit(main())
