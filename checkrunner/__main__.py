import sys

from checkrunner.cli.main import main

sys.exit(main())
