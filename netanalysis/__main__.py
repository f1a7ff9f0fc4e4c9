import sys

from netanalysis.cli import main

sys.exit(main())
