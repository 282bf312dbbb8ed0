"""nbgrader settings for `make check` (nbgrader validate) in the learner edition."""

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "spark-ml-course"
c.CourseDirectory.release_directory = "course"
# Spark needs more than nbgrader's 30 s per cell; always the course kernel, which keeps JVM
# output out of cell outputs.
c.Execute.timeout = 240
c.Execute.interrupt_on_timeout = True
c.Execute.kernel_name = "sparkcourse"
