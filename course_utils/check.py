"""The environment doctor's former name, kept so that `python -m course_utils.check` and old
imports still work. The doctor itself is `course_utils.doctor`."""

import sys

from course_utils.doctor import *  # noqa: F403 - the same public names
from course_utils.doctor import Finding, examine, main

Result, run_checks = Finding, examine  # the names they had here

if __name__ == "__main__":
    sys.exit(main())
