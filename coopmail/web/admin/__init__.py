"""The staff admin under /admin/: server-rendered pages over the same use cases as the
command line and the API. A sibling of the public pages and the API, never importing
them: what they share (the context, CSRF, security headers, languages, mails) is in
``coopmail.web`` beside them."""
