#!/usr/bin/env python3
"""Entry point: ``python bot.py`` runs the bot; ``python bot.py --help`` lists the commands.

Only a launcher: the code is the ``bot`` package (which this file's name would shadow if it
were imported; nothing imports it).
"""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
