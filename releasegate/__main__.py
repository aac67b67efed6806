import sys

from releasegate.cli import main

sys.exit(main())
