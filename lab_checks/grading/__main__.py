from lab_checks.grading.cli import entry

entry()
