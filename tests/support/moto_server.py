#!/usr/bin/env python3
"""moto's server with the project's patches, for the tests: ``moto_server.py -H HOST -p PORT``.

moto 5.2.5 leaves a user's ``UserLastModifiedDate`` as it was after ``AdminSetUserPassword``
and ``AdminResetUserPassword``; Cognito updates it whenever it changes the user. resetgate
reconciles a reset whose call went unanswered from that date and the user's status
(docs/IDEMPOTENCY.md), so the tests need the real behaviour: each patched operation calls
moto's own and then stamps the user, exactly as moto does for the operations it covers.
Nothing else changes.
"""

import sys

from moto.cognitoidp.models import CognitoIdpBackend
from moto.core.utils import utcnow
from moto.server import main


def _stamping(operation):
    original = getattr(CognitoIdpBackend, operation)

    def patched(self, user_pool_id, username, *args, **kwargs):
        result = original(self, user_pool_id, username, *args, **kwargs)
        self.admin_get_user(user_pool_id, username).last_modified_date = utcnow()
        return result

    patched.__name__ = original.__name__
    patched.__doc__ = original.__doc__
    setattr(CognitoIdpBackend, operation, patched)


for _operation in ("admin_set_user_password", "admin_reset_user_password"):
    _stamping(_operation)

if __name__ == "__main__":
    sys.exit(main())
