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

patient_message_stored = Signal()
"""A patient's message or button press was stored and is about to open a wait for a reply.

The one signal sent synchronously, inside the storing transaction (before the webhook is
answered), because its answer decides how the message flows: a receiver returns True when the
message was an answer it has fully handled (a confirmation of a visit, a stop word), and then
the message is shown in the thread but opens no wait and hands nothing out. Receivers run
their own writes in a savepoint, so a failing one only logs (send_robust) and the message flows
as usual. Keyword arguments: `message` (the stored inbox.models.Message), `now`.
"""
