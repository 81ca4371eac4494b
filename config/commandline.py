"""What manage.py runs: Django's command line, with a clear answer when the database cannot be reached.

A newcomer who points DATABASE_URL at a PostgreSQL database that was never
created (or at a server that is down) gets a message naming the database and
saying how to create it, in place of a driver traceback. Only failures to
connect are answered so; any other error keeps its traceback.
"""

import sys

from django.core.management import execute_from_command_line
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import OperationalError


def main(argv):
    try:
        execute_from_command_line(argv)
    except OperationalError as error:
        database = connections[DEFAULT_DB_ALIAS]
        # A failed connect leaves no connection behind; an error in a query, one.
        if database.connection is not None:
            raise
        sys.stderr.write(unreachable_database_message(database.settings_dict, database.vendor, error))
        sys.exit(1)


def unreachable_database_message(settings_dict, vendor, error):
    name = settings_dict["NAME"]
    driver = " ".join(str(error).split())
    if vendor == "postgresql":
        host, port, user = settings_dict["HOST"] or "localhost", settings_dict["PORT"] or 5432, settings_dict["USER"]
        where = f"PostgreSQL {host}:{port}"
        create = f"createdb -h {host} -p {port} -U {user or 'postgres'} {name}"
        hint = (
            f"PostgreSQL 的数据库需要先创建，例如：{create}；并检查 DATABASE_URL 和服务器是否在运行。\n"
            f"A PostgreSQL database must exist first, e.g. `{create}`; check DATABASE_URL and that the server is running.\n"
        )
    else:
        where = vendor
        hint = (
            "请检查 DATABASE_URL 以及数据库文件所在的目录是否存在、可写。\n"
            "Check DATABASE_URL and that the file's directory exists and is writable.\n"
        )
    return (
        f"无法连接数据库 {name}（{where}）：{driver}\n"
        f"Cannot connect to the database {name} ({where}).\n"
        f"{hint}"
    )
