"""Voter access: the links that let a voter in (activation, password reset, vote-code reissue).

One rule set for both paths that ask for a link: the desk (an agent, on a ticket) and the
public self-service forms (a request the worker processes). Using a link (the portal's
landings) is here too. The link rows and their tokens are `csudesk.links`.
"""
