"""A platform that exists only in the tests: the whole of what adding a platform
takes (this package and one registry line), kept as small as it can be."""
