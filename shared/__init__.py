"""Helpers that the tests of every assignment share: tolerances, comparisons,
hypothesis strategies, devices and timing.  Nothing here is secret: public tests
use it too, and it ships in the student zip."""
