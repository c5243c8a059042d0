"""`her2-cds db upgrade|current`: the database schema, for operators (the service also upgrades at start)."""

import argparse

from ..config import Settings

__all__ = ["register"]


def run(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from ..store import Database
    from ..store.schema import current_revision, head_revision

    newest = head_revision()
    if args.action == "upgrade":
        database = Database(settings.database_url)  # upgrades to the newest revision, under the migration lock
        found = current_revision(database.engine)
        database.close()
    else:
        engine = create_engine(settings.database_url)  # only reads: no directory made, no migration run
        try:
            found = current_revision(engine)
        except SQLAlchemyError as exc:
            print(f"database unreachable ({type(exc).__name__})")
            return 2
        finally:
            engine.dispose()
    # The URL is never printed: it may hold a password.
    if found == newest:
        print(f"database schema at revision {found} (the newest)")
        return 0
    shown = found or "none (an empty database, or one made before migrations)"
    print(f"database schema at revision {shown}; the newest is {newest}: run `her2-cds db upgrade`")
    return 1


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    db = commands.add_parser("db", help="the database schema: upgrade it to the newest revision, or show where it is")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(run=run)
