# Registers the grading plugin for every pytest run in this repository
# (tests of the framework and the hidden suites alike).
pytest_plugins = ["autograder.plugin"]
