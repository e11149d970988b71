"""The ACL that turns the design guide's Redis "DB 0 / DB 1" convention into a boundary.

The design guide separates dev and prod by DB number, which any client can undo with `SELECT`.
Here each environment authenticates as its own user whose keys and pub/sub channels are
confined to its prefix (`dev:` / `prod:`). The DB numbers stay as the design guide has them, but
they do not matter for isolation: a dev client that selects DB 1 still reaches only
`dev:*` keys there.

Key patterns only guard commands that name keys. Commands that act on or reveal the
whole keyspace, or state shared by every user, are removed on top:

- `-@dangerous` (and `-@admin`): FLUSHALL/FLUSHDB (wipe the other environment), SWAPDB
  (swap dev's DB with prod's), KEYS (lists every key name), SORT ... BY/GET, MONITOR and
  SLOWLOG (show the other environment's commands and arguments), CLIENT LIST/KILL, ACL
  LIST/GETUSER, CONFIG, DEBUG, RESTORE, MIGRATE, replication and persistence commands.
- `+info` is given back: INFO shows server statistics and per-DB key counts, no key
  names or values, and client libraries read the server version from it.
- `-scan -randomkey`: both return key names regardless of key patterns.
- `-client`: CLIENT TRACKING ... BCAST delivers invalidation messages for every key
  written, naming prod's keys to a dev connection (measured on redis-server 7.0). The
  rest of CLIENT is either already dangerous or cosmetic; name connections with
  `HELLO 3 SETNAME`.
- `-pubsub`: PUBSUB CHANNELS/NUMSUB list the other environment's channel names.
  PUBLISH/SUBSCRIBE/PSUBSCRIBE stay, limited to `&<prefix>*`.
- `-function -fcall -fcall_ro`: function libraries are one namespace shared by every
  user; dev could replace a library prod calls (FUNCTION LOAD REPLACE) and have its code
  run with prod's rights. EVAL/EVALSHA stay: scripts are addressed by their content hash
  and every call inside a script is checked against the caller's ACL.
- `-memory`: MEMORY STATS and DOCTOR describe the whole server's allocator and dataset;
  no application needs the MEMORY family.

Kept on purpose, with what they let the other environment do (docs/boundary.md):
SCRIPT (FLUSH empties the shared script cache, KILL stops a read-only script that has
run past the busy threshold, prod's included): redis-py's Script and Lock load their
scripts again with SCRIPT LOAD after NOSCRIPT, and without subcommand rules SCRIPT KILL
cannot go alone; INFO (every section, commandstats included: per-command call counts of
the whole server) because client libraries read the version from it.

What normal application code needs stays allowed: strings, hashes, lists, sets, sorted
sets, streams, expiry, MULTI/EXEC and pipelines, blocking pops, pub/sub on its own
channels, Lua scripts, SELECT.

The string uses only rules that both open-source Redis/Valkey 7 `ACL SETUSER` and
ElastiCache access strings accept: `on`/`off`, `~pattern`, `&pattern`, `+@category`,
`-@category`, `+command`, `-command`. No passwords (ElastiCache sets them through its
API), no `reset`, no `command|subcommand` rules and no per-DB rules (Valkey 9.1's `db=`),
which ElastiCache or Redis 7 would refuse.
"""

from __future__ import annotations

from pingvas_infra.environments import Environment

# Removed on top of the key and channel patterns; see the module docstring for each.
_DENIED_COMMANDS = (
    "scan",
    "randomkey",
    "client",
    "pubsub",
    "function",
    "fcall",
    "fcall_ro",
    "memory",
)

# ElastiCache needs a user named "default" in every user group; it is switched off so a
# connection that does not authenticate as an environment's user can do nothing.
DEFAULT_USER_NAME = "default"
DEFAULT_USER_ACCESS_STRING = "off -@all"


def cache_access_string(env: Environment) -> str:
    """The ACL rules of ``env``'s cache user (ElastiCache access string / ACL SETUSER)."""
    prefix = env.key_prefix
    rules = [
        "on",
        f"~{prefix}*",
        f"&{prefix}*",
        "+@all",
        "-@dangerous",
        "-@admin",
        "+info",
        *(f"-{command}" for command in _DENIED_COMMANDS),
    ]
    return " ".join(rules)
