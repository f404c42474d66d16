# grade.mk -- grading a class with lab-grade (lab_checks/grading); included by the top-level Makefile.
#
#   grade        make grade ROSTER=class.yaml [CHECKPOINT=applied|finished] [GRADE_ARGS='--jobs 4']
#                grades every student of the roster (YAML or CSV) read-only; the table goes to the
#                terminal, CSV/JSON/JUnit to $(GRADE_DIR). Exit 0 when the class was graded.
#   grade-test   the grader's tests, on the hermetic cluster (brought up with make cluster-up if
#                needed, and left up): seven simulated students at both checkpoints, RBAC, reports
#   grade-bench  time to grade 1 and 30 targets on the hermetic cluster (bench/bench_grade.py)

GRADE_DIR ?= build/grade
CHECKPOINT ?= applied
GRADE_ARGS ?=

.PHONY: grade grade-test grade-bench

grade: install
	@test -n "$(ROSTER)" || { echo "make grade: give the class as ROSTER=class.yaml (or .csv)" >&2; exit 2; }
	@mkdir -p $(GRADE_DIR)
	$(VENV)/bin/lab-grade --roster $(ROSTER) --checkpoint $(CHECKPOINT) \
	  --csv $(GRADE_DIR)/grades-$(CHECKPOINT).csv --json $(GRADE_DIR)/grades-$(CHECKPOINT).json \
	  --junit $(GRADE_DIR)/grades-$(CHECKPOINT)-junit.xml $(GRADE_ARGS)

grade-test: install
	$(PYTHON) -m pytest -p no:cacheprovider -q lab_checks/grading/tests

grade-bench: install
	$(PYTHON) bench/bench_grade.py $(GRADE_ARGS)
