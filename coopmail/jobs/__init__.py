"""Background jobs of the admin (an import, a bulk action): a row each, run by a thread of
`coopmail serve`, with progress the pages read."""
