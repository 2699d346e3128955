"""The run-time knowledge store: topics editors change in the console.

`rules` (the knowledge folder's rules, shared with tools/) needs nothing but
PyYAML, so nothing heavy is imported here.
"""
