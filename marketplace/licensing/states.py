"""The licence lifecycle: active -> expired (its period lapsed) | revoked (its order was refunded)."""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from marketplace.lifecycle import Lifecycle, Subject, Words, move
from marketplace.listings.vocab import LabelledEnum, labelled


@labelled({"active": _l("Active"), "expired": _l("Expired"), "revoked": _l("Revoked")})
class LicenceStatus(LabelledEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class LicenceAction(enum.StrEnum):
    EXPIRE = "expire"
    REVOKE = "revoke"


class LicenceActor(enum.StrEnum):
    SYSTEM = "system"  # the platform itself: expiry, and revocation when its order is refunded


L, SYS = LicenceStatus, LicenceActor.SYSTEM
LICENCE_LIFECYCLE: Lifecycle[LicenceStatus, LicenceAction] = Lifecycle("licence", {
    (L.ACTIVE, LicenceAction.EXPIRE): move(L.EXPIRED, SYS),
    (L.ACTIVE, LicenceAction.REVOKE): move(L.REVOKED, SYS),
}, words=Words(_l("a licence"), {LicenceAction.EXPIRE: _l("expire"), LicenceAction.REVOKE: _l("revoke")},
               {SYS: _l("the platform")}))
del L, SYS

# Every licence move stamps ``status_changed_at``; every event names the licence's serial.
LICENCE_LIFECYCLE.maps = Subject("licence", stamps=("status_changed_at",),
                                 facts=lambda licence: {"serial": licence.serial})
