"""The pages partners see: subscribe, confirm, unsubscribe (and RFC 8058 one-click),
preferences and the letter in the browser, in the visitor's language, without JavaScript.

A sibling of the JSON API and the staff admin: it imports neither; what they share lives
in ``coopmail.web``.
"""
