"""The media library: images staff upload once and every campaign links to by URL.

``images`` checks and prepares the bytes (Pillow), ``store`` keeps them (a folder on disk),
``library`` holds the use cases and ``references`` resolves the images a campaign names.
"""
