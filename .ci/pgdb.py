"""Create or drop a scratch PostgreSQL database for a CI run: pgdb.py create|drop NAME..."""

import sys

import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> int:
    action, names = sys.argv[1], sys.argv[2:]
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        for name in names:
            if not name.replace("_", "").isalnum():
                raise SystemExit(f"refusing odd database name {name!r}")
            if action == "create":
                connection.execute(f'CREATE DATABASE "{name}"')
            else:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
