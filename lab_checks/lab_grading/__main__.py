from lab_grading.cli import entry

entry()
