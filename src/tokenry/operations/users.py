"""CreateUser, UpdateUser and the user reads. Admins manage users; anyone can read themself."""

from __future__ import annotations

from typing import Any, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.auth.passwords import hash_password, verify_password
from tokenry.core import Core
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Conflict, Forbidden, Invalid, NotFound
from tokenry.domain.users import (
    Role,
    check_provisioner_role,
    normalise_email,
    parse_role,
    validate_name,
)
from tokenry.domain.web_sessions import ends_sessions
from tokenry.operations._common import (
    acting_user,
    audit,
    find_in_account,
    require_account_admin,
)
from tokenry.operations.context import Actor, EveryRow, Listed, Listing, Page, PageRequest
from tokenry.operations.paging import paginate
from tokenry.operations.web_sessions import end_sessions
from tokenry.storage.models import User

MIN_PASSWORD = 12


def find_user(session: Session, account_id: int, email: str, *, lock: bool = False) -> User:
    query = select(User).where(User.account_id == account_id, User.email == normalise_email(email))
    user = session.scalar(query.with_for_update() if lock else query)
    if user is None:
        raise NotFound(f"There is no user {email!r} in this account.")
    return user


def _manager_id(session: Session, account_id: int, manager_email: str | None) -> int | None:
    if not manager_email:
        return None
    try:
        return find_user(session, account_id, manager_email).id
    except NotFound:
        raise Invalid.field(
            "manager", f"there is no user {manager_email!r} to be the manager") from None


def password_hash(password: str | None) -> str | None:
    if password is None:
        return None
    if len(password) < MIN_PASSWORD:
        raise Invalid.field("password", f"must be at least {MIN_PASSWORD} characters")
    return hash_password(password)


def create_user(core: Core, actor: Actor, *, email: str, name: str, role: str = Role.END_USER,
                password: str | None = None, manager_email: str | None = None,
                verified: bool = True, provisioner: bool = False) -> User:
    with core.db.transaction() as session:
        require_account_admin(session, actor, "create users")
        return add_user(session, core, actor, email=email, name=name, role=role,
                                password=password, manager_email=manager_email, verified=verified,
                        provisioner=provisioner)


def add_user(session: Session, core: Core, actor: Actor, *, email: str, name: str,
             role: str = Role.END_USER, password: str | None = None,
             manager_email: str | None = None, verified: bool = True,
             provisioner: bool = False) -> User:
    """Insert a user inside the caller's transaction (the caller checks who may do it)."""
    email, name, role = normalise_email(email), validate_name(name), parse_role(role)
    check_provisioner_role(role, provisioner)
    hashed = password_hash(password)
    now = core.clock()
    exists = session.scalar(select(User.id).where(User.account_id == actor.account_id,
                                                   User.email == email))
    if exists is not None:
        raise Conflict(f"A user with email {email} already exists in this account.")
    user = User(account_id=actor.account_id, email=email, name=name, role=role,
                verified=verified, suspended=False, password_hash=hashed,
                provisioner=provisioner,
                manager_id=_manager_id(session, actor.account_id, manager_email),
                created_at=now, updated_at=now)
    session.add(user)
    session.flush()
    audit(session, core, actor, action=Action.CREATE, source_type=SourceType.USER,
          source_id=user.id, source_label=email,
          changes={"role": [None, role], "manager_id": [None, user.manager_id],
                   "provisioner": [None, provisioner]},
          description=f"Created {role} {email}")
    return user


def update_user(core: Core, actor: Actor, email: str, *, name: str | None = None,
                role: str | None = None, verified: bool | None = None,
                suspended: bool | None = None, password: str | None = None,
                manager_email: str | None = None, provisioner: bool | None = None) -> User:
    with core.db.transaction() as session:
        require_account_admin(session, actor, "update users")
        user = find_user(session, actor.account_id, email, lock=True)
        wanted: dict[str, Any] = {}
        if name is not None:
            wanted["name"] = validate_name(name)
        if role is not None:
            wanted["role"] = parse_role(role).value
        if verified is not None:
            wanted["verified"] = verified
        if suspended is not None:
            wanted["suspended"] = suspended
        if provisioner is not None:
            wanted["provisioner"] = provisioner
        if manager_email is not None:
            wanted["manager_id"] = _manager_id(session, actor.account_id, manager_email)
            if wanted["manager_id"] == user.id:
                raise Invalid.field("manager", "a user cannot be their own manager")
        check_provisioner_role(wanted.get("role", user.role),
                               wanted.get("provisioner", user.provisioner))
        changes = {k: [getattr(user, k), v] for k, v in wanted.items() if getattr(user, k) != v}
        for key, (_, value) in changes.items():
            setattr(user, key, value)
        if password is not None:
            user.password_hash = password_hash(password)
            changes["password"] = ["(set)", "(changed)"]
        if changes:
            user.updated_at = core.clock()
            if ends_sessions(set(changes)):
                end_sessions(session, user.id)
            audit(session, core, actor, action=Action.UPDATE, source_type=SourceType.USER,
                  source_id=user.id, source_label=user.email, changes=changes,
                  description=f"Updated {', '.join(sorted(changes))} of {user.email}")
    return user


@overload
def list_users(core: Core, actor: Actor,
               page: PageRequest | EveryRow | None = None) -> Page[User]: ...
@overload
def list_users(core: Core, actor: Actor, page: Listing) -> Listed[User]: ...
def list_users(core: Core, actor: Actor, page: Listing | None = None) -> Listed[User]:
    with core.db.read() as session:
        require_account_admin(session, actor, "list users")
        query = select(User).where(User.account_id == actor.account_id)
        return paginate(session, query, page or PageRequest(), keys=[User.id])


def show_user(core: Core, actor: Actor, email: str) -> User:
    with core.db.read() as session:
        require_account_admin(session, actor, "view users")
        return find_user(session, actor.account_id, email)


def show_user_by_id(core: Core, actor: Actor, user_id: int) -> User:
    with core.db.read() as session:
        require_account_admin(session, actor, "view users")
        return find_in_account(session, User, actor.account_id, user_id, "user")


def users_by_id(core: Core, actor: Actor, user_ids: set[int]) -> list[User]:
    """Some users of the account, by id, in id order (admins only)."""
    if not user_ids:
        return []
    with core.db.read() as session:
        require_account_admin(session, actor, "view users")
        return list(session.scalars(select(User).where(
            User.account_id == actor.account_id, User.id.in_(user_ids)).order_by(User.id)))


def user_emails(core: Core, actor: Actor, user_ids: set[int]) -> dict[int, str]:
    """The emails of some users of the account, by id (for lists that show who is bound)."""
    return {user.id: user.email for user in users_by_id(core, actor, user_ids)}


def change_own_password(core: Core, actor: Actor, current: str, new: str) -> None:
    """A person changes their own password. It proves itself with the current one, and every
    session of theirs ends (this one too): a stolen session dies with the old password."""
    with core.db.transaction() as session:
        user = acting_user(session, actor)
        if user is None:
            raise Forbidden("Only a person can change their password.")
        if not verify_password(user.password_hash, current):
            raise Invalid.field("current_password", "is not your current password")
        if current == new:
            raise Invalid.field("new_password", "must differ from the current one")
        user.password_hash = password_hash(new)
        user.updated_at = core.clock()
        end_sessions(session, user.id)
        audit(session, core, actor, action=Action.UPDATE, source_type=SourceType.USER,
              source_id=user.id, source_label=user.email,
              changes={"password": ["(set)", "(changed)"]},
              description=f"{user.email} changed their password")
