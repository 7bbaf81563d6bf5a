"""What the inbox tells the apps built on it, without importing them (they depend on the inbox,
never the other way round). Receivers connect in their AppConfig.ready().

Signals here are sent after the change commits (`transaction.on_commit`) with `send_robust`,
so a receiver that fails never undoes or breaks the inbox's own change.
"""

from django.dispatch import Signal

dialogue_resolved = Signal()
"""A dialogue was resolved, or re-resolved after a manual reopen.

Keyword arguments: `window_id` (an `inbox.models.DialogueWindow` id). Sent after commit.
"""

satisfaction_recorded = Signal()
"""A patient rated a dialogue (1-5) in answer to the automatic question after its resolve.

Keyword arguments: `window_id` (an `inbox.models.DialogueWindow` id; the rating is its
`satisfaction`). Sent after commit.
"""
