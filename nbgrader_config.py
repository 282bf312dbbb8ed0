"""nbgrader settings for the course (no absolute paths: every path is relative to this folder)."""

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "spark-ml-course"
# solutions/NN_name/NN_name.ipynb is the instructor source; course/ is the generated release.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# Data and models are written under workdir/ by the notebooks; never release anything else.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "workdir", "spark-warehouse",
                            "metastore_db", "derby.log"]

# The learner copy: the same stub in every exercise cell.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Byte-identical releases: no execution metadata carried into course/.
c.ClearOutput.remove_metadata_fields = {"collapsed", "scrolled", "execution", "ExecuteTime"}

# Grading runs real Spark: a JVM start and a model fit each take seconds, not milliseconds.
c.Execute.timeout = 240  # per cell; an endless loop is interrupted after this and grading goes on
c.Execute.interrupt_on_timeout = True
# Always the course kernel, whatever kernel a submission names: it keeps JVM and native output
# out of cell outputs (any stderr in a grade cell scores it 0).
c.Execute.kernel_name = "sparkcourse"

# Feedback shows the learner's work and scores, never the hidden tests: not in the source, and
# not in outputs either (tracebacks quote the failing line; code can print its caller's source).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "sparkcourse.feedback.RedactHiddenTests",  # must run while the hidden tests are still there
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.RedactHiddenTests.source_directory = c.CourseDirectory.source_directory  # solutions to keep out too

# `make collect A=00_setup ZIP=downloads.zip` (nbgrader zip_collect): the zip holds one folder per
# student, <student_id>/<notebook>.ipynb, at any depth. The collector sees absolute paths.
# Staging goes to downloaded/<assignment>/{archive,extracted}/ (git-ignored).
c.ZipCollectApp.downloaded_directory = "downloaded"
c.ExtractorPlugin.zip_ext = [".zip"]  # no archives inside the archive
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[A-Za-z0-9][A-Za-z0-9_.-]*)/(?P<file_id>[^/]+\.ipynb)$")
