"""The platform conformance suite: what every chat platform must do the same way
(test_conformance.py), run against each platform through a small driver
(<platform>.py) that speaks to its local fake as the platform would."""
