#!/usr/bin/env python3
"""Django's manage.py; the installed `wellcheck` command does the same."""

from wellcheck.__main__ import main

if __name__ == "__main__":
    main()
