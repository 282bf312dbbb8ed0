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

# Feedback shows the learner's work and scores, never the hidden tests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
