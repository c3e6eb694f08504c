"""The conversation with the voter: replies from a ticket, réponses types, mail that comes in
(CSU mailboxes read over IMAP), threads and bounces."""
