# The course's commands. Learners need two: `make lab` and `make test`.
.DEFAULT_GOAL := lab
include tools/common.mk

.PHONY: help bootstrap lab test test-fast test-browser check release outputs coverage collect grade merge-grades \
	learner-edition bench bench-grade doctor lock clean

help:
	@echo "make lab          set up (first time) and open JupyterLab on your workspace"
	@echo "make test         set up, then run every test (executes every notebook)"
	@echo "make test-fast    tests that execute no notebook and start no server"
	@echo "make test-browser JupyterLab with lesson 00 in headless Chromium (needs chromium)"
	@echo "make check N=03   nbgrader-validate your workspace copy of lesson 03"
	@echo "make release      regenerate course/ from solutions/ (instructors)"
	@echo "make outputs      re-execute solutions/ and store their outputs (instructors)"
	@echo "make coverage     rewrite COVERAGE.md: which lesson uses each pyspark.ml class"
	@echo "make collect A=00_setup ZIP=downloads.zip   unpack submissions into submitted/ (nbgrader zip_collect)"
	@echo "make grade A=00_setup   autograde submitted/, write feedback and grades.csv (JOBS=n at once, SHARD=i/n)"
	@echo "make merge-grades A=00_setup FROM=\"dir1 dir2\"   combine shards graded in other course folders"
	@echo "make learner-edition DEST=../learners   a repository for learners: no solutions, no hidden tests"
	@echo "make bench-grade  grade 24 synthetic submissions of lesson 00 with JOBS=1 and JOBS=2"
	@echo "make bench        time every solutions notebook"
	@echo "make doctor       what this machine has, and what is wrong"

test: bootstrap
	$(PY) -m pytest -n $(JOBS) --dist loadfile --no-loadscope-reorder --durations=25 --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg tests solutions

test-fast: bootstrap
	$(PY) -m pytest -n $(JOBS) --dist loadfile --no-loadscope-reorder -m "$(FAST_TIER)" tests

test-browser: bootstrap
	$(PY) -m pytest -m browser -v -s tests/test_browser.py

check: bootstrap
	$(PY) -m tools.check_lesson $(N)

release: bootstrap
	$(PY) -m tools.release

outputs: bootstrap
	$(PY) -m tools.execute $(if $(N),--lesson $(N))
	$(PY) -m tools.release

coverage: bootstrap
	$(PY) -m tools.ml_coverage

collect: bootstrap
	$(PY) -m tools.grade $(A) --collect "$(ZIP)" $(if $(REPLACE),--replace)

# JOBS given on the command line (or in the environment) sets the students graded at once;
# otherwise grade.py picks what the machine's cores and memory hold.
grade: bootstrap
	$(PY) -m tools.grade $(A) $(if $(filter command line environment,$(origin JOBS)),--jobs $(JOBS)) \
		$(if $(SHARD),--shard $(SHARD))

merge-grades: bootstrap
	$(PY) -m tools.grade $(A) --merge $(FROM)

learner-edition: bootstrap
	$(PY) -m tools.learner_edition "$(DEST)" $(if $(LESSONS),--lessons $(LESSONS))

bench-grade: bootstrap
	$(PY) -m tools.bench_grade $(if $(N),--students $(N))

bench: bootstrap
	$(PY) -m tools.bench

lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install -q -e .
	{ head -2 requirements/constraints.txt; .lockvenv/bin/pip freeze --exclude-editable | grep -vi '^sparkcourse'; } > requirements/constraints.new
	mv requirements/constraints.new requirements/constraints.txt && rm -rf .lockvenv

clean:
	rm -rf workdir autograded feedback downloaded gradebook.db grades.csv grades-*.json item-analysis-* .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
