"""People, lists, consent and suppressions.

This package knows nothing of campaigns: it is the address book that the campaign
pipeline reads from and the public pages write to.
"""
