import sys

from mixscope.cli import main

sys.exit(main())
