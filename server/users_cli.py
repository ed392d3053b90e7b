"""``gess users create|list|set-role``: accounts for operators, straight in the database.

This is how an operator creates accounts when registration is invite-only, and names admins.
Every command brings the schema up to date first, like ``gess serve``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TextIO

from server.accounts import Passwords, new_id
from server.email_address import lookup_forms, normalize_email
from storage import create_engine, upgrade_database
from storage.clock import utcnow
from storage.database import Database
from storage.errors import Conflict, StorageError
from storage.people import count_users, insert_user, list_users, set_instance_role
from storage.schema import users

__all__ = ["add_users_commands", "run_users_command"]

_MIN_PASSWORD = 8


def add_users_commands(users_parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Declare the ``users`` subcommands; returns their parsers (to add the settings flags)."""
    commands = users_parser.add_subparsers(dest="users_command", required=True)
    create = commands.add_parser("create", help="create an account")
    create.add_argument("--email", required=True, help="the account's e-mail address")
    create.add_argument("--name", required=True, help="the person's name, as others see it")
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (else: prompt)",
    )
    create.add_argument("--admin", action="store_true", help="make the account an admin")
    listing = commands.add_parser("list", help="list the accounts")
    set_role = commands.add_parser("set-role", help="make an account admin or user")
    set_role.add_argument("email", help="the account's e-mail address")
    set_role.add_argument("role", choices=("admin", "user"))
    return [create, listing, set_role]


def _read_password(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.password_stdin:
        return stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise ValueError("the passwords differ")
    return password


def run_users_command(args: argparse.Namespace, url: str, stdin: TextIO | None = None) -> int:
    """Run one ``gess users`` command against the database at ``url``; the exit status."""
    try:
        if args.users_command == "create":
            password = _read_password(args, stdin or sys.stdin)
            if len(password) < _MIN_PASSWORD:
                raise ValueError(f"the password needs at least {_MIN_PASSWORD} characters")
            return asyncio.run(_create(url, args.email, args.name, password, args.admin))
        if args.users_command == "list":
            return asyncio.run(_list(url))
        return asyncio.run(_set_role(url, args.email, args.role))
    except ValueError as exc:
        print(f"gess: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"gess: {exc}", file=sys.stderr)
        return 1


async def _open(url: str) -> Database:
    await upgrade_database(url)
    return Database(create_engine(url))


async def _create(url: str, email: str, name: str, password: str, admin: bool) -> int:
    if not name.strip():
        raise ValueError("give an e-mail address and a name")
    email = normalize_email(email.strip())  # InvalidEmail is a ValueError: says what is wrong
    password_hash = await Passwords().hash(password)
    database = await _open(url)
    try:
        async with database.transaction() as connection:
            await database.lock_for_update(connection, users)
            first = await count_users(connection) == 0
            user = await insert_user(
                connection,
                user_id=new_id(),
                email=email,
                name=name.strip(),
                password_hash=password_hash,
                instance_role="admin" if admin or first else "user",
                now=utcnow(),
            )
    except Conflict:
        print(f"gess: an account with the address {email} exists", file=sys.stderr)
        return 1
    finally:
        await database.engine.dispose()
    print(f"created {user.instance_role} {user.email} ({user.id})")
    return 0


async def _list(url: str) -> int:
    database = await _open(url)
    try:
        after: str | None = None
        print(f"{'email':40} {'role':6} {'created':20} name")
        while True:
            async with database.transaction() as connection:
                page = await list_users(connection, limit=500, after=after)
            for user in page:
                created = user.created_at.strftime("%Y-%m-%d %H:%M:%S")
                print(f"{user.email:40} {user.instance_role:6} {created:20} {user.name}")
            if len(page) < 500:
                return 0
            after = page[-1].email
    finally:
        await database.engine.dispose()


async def _set_role(url: str, email: str, role: str) -> int:
    database = await _open(url)
    try:
        async with database.transaction() as connection:
            user = None
            for form in lookup_forms(email.strip()):
                user = await set_instance_role(connection, form, role)
                if user is not None:
                    break
    finally:
        await database.engine.dispose()
    if user is None:
        print(f"gess: no account uses {email}", file=sys.stderr)
        return 1
    print(f"{user.email} is now {user.instance_role}")
    return 0
