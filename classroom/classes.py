"""Classes: a teacher's code and secret link, students who join under a display name, and the board of what they
submitted, each entry measured by the server itself.

A class has a short code to type (6 letters and digits, no 0/O/1/I) and a teacher key (32 random bytes) shown
once and stored as a hash. The browser that created the class teaches it; so does each browser that opens the
teacher link (the key is checked once, then that browser is a teacher by its own identity). Display names are checked
(length, characters, unique in the class as they read: classroom.names) and shown as plain text only.
"""
from __future__ import annotations

import json
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Integer, cast, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import Refused, names
from .db import classes, members, models, submissions, teachers
from .identity import key_digest, new_key, same

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
CODE_PATTERN = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
MAX_OPEN_CLASSES = 50  # on one server (one database)
MAX_CLASS_SIZE = 200
MAX_SUBMISSIONS_PER_MEMBER = 20
MAX_TITLE = 80
MAX_DISPLAY_NAME = 32


@dataclass(frozen=True)
class Class:
    id: int
    code: str
    title: str
    frozen: bool
    closed: bool
    created: float


@dataclass(frozen=True)
class Member:
    id: int
    class_id: int
    name: str


CLASS_COLUMNS = (classes.c.id, classes.c.code, classes.c.title, classes.c.frozen, classes.c.closed,
                 classes.c.created)
FIGURES = ("latent_dim", "likelihood", "sigma_dec", "beta", "steps", "elbo", "rate", "distortion", "log_px_iwae",
           "iwae_images", "active_units")


def clean_text(text, most: int, what: str) -> str:
    """`text` with surrounding and repeated spaces removed; Refused when empty, too long or holding control
    characters (a newline, a NUL, a bidirectional override)."""
    if not isinstance(text, str):
        raise Refused(f"{what} must be text.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise Refused(f"{what} may not hold control or invisible characters.")
    text = " ".join(text.split())
    if not text:
        raise Refused(f"{what} is empty.")
    if len(text) > most:
        raise Refused(f"{what} has {len(text):,} characters; at most {most}.")
    return text


def check_display_name(name) -> str:
    """A display name: 1–32 letters (any alphabet), digits, spaces and . _ ' -, starting with a letter or digit."""
    name = clean_text(name, MAX_DISPLAY_NAME, "A display name")
    if not all(ch.isalnum() or ch in " ._'-" for ch in name) or not name[0].isalnum():
        raise Refused("A display name uses letters, digits, spaces and . _ ' - only, and starts with a letter or "
                      "digit (no markup: it is shown as it is typed).")
    return name


def normalise_code(code) -> str | None:
    """The class code as stored ("k7q 2mx" → "K7Q2MX"), or None when it cannot be one."""
    if not isinstance(code, str):
        return None
    code = "".join(code.split()).upper()
    return code if CODE_PATTERN.match(code) else None


def create(engine, teacher: str, title: str) -> tuple[Class, str]:
    """A new class taught by identity `teacher`: (the class, its teacher key, to be shown once)."""
    if not teacher:
        raise Refused("This browser has no identity yet: reload the page, then create the class.")
    title = clean_text(title, MAX_TITLE, "A class's title")
    key = new_key()
    with engine.begin() as connection:
        open_count = connection.execute(select(func.count()).select_from(classes).where(classes.c.closed.is_(False)))
        if open_count.scalar_one() >= MAX_OPEN_CLASSES:
            raise Refused(f"This server has {MAX_OPEN_CLASSES} open classes, its most: close one first.")
        for _ in range(20):  # a fresh code; collisions among 32⁶ codes are rare
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if connection.execute(select(classes.c.id).where(classes.c.code == code)).first() is None:
                break
        row = {"code": code, "title": title, "teacher_key": key_digest(key), "frozen": False, "closed": False,
               "created": time.time()}
        class_id = connection.execute(insert(classes).values(**row).returning(classes.c.id)).scalar_one()
        connection.execute(insert(teachers).values(class_id=class_id, identity=teacher))
    return Class(class_id, code, title, False, False, row["created"]), key


def find(engine, code) -> Class | None:
    """The class with this code, or None (a code that cannot be one is not looked up)."""
    code = normalise_code(code)
    if code is None:
        return None
    with engine.connect() as connection:
        row = connection.execute(select(*CLASS_COLUMNS).where(classes.c.code == code)).first()
    return Class(*row) if row else None


def teaches(engine, klass: Class, identity: str | None) -> bool:
    """Whether `identity` teaches the class (created it, or opened its teacher link)."""
    if not identity:
        return False
    with engine.connect() as connection:
        return connection.execute(select(teachers.c.identity).where(
            teachers.c.class_id == klass.id, teachers.c.identity == identity)).first() is not None


def claim_teacher(engine, klass: Class, identity: str | None, key) -> bool:
    """The teacher link opened by `identity`: with the right key, that browser teaches the class from now on.
    Returns whether it does; a wrong key changes nothing."""
    if not identity:
        return False
    with engine.begin() as connection:
        stored = connection.execute(select(classes.c.teacher_key).where(classes.c.id == klass.id)).scalar_one()
        if not same(key, stored):
            return False
        known = connection.execute(select(teachers.c.identity).where(
            teachers.c.class_id == klass.id, teachers.c.identity == identity)).first()
        if known is None:
            connection.execute(insert(teachers).values(class_id=klass.id, identity=identity))
    return True


def taught_by(engine, identity: str | None) -> list[Class]:
    if not identity:
        return []
    query = (select(*CLASS_COLUMNS).join(teachers, teachers.c.class_id == classes.c.id)
             .where(teachers.c.identity == identity).order_by(classes.c.id))
    with engine.connect() as connection:
        return [Class(*row) for row in connection.execute(query)]


def membership(engine, klass: Class, identity: str | None) -> Member | None:
    if not identity:
        return None
    with engine.connect() as connection:
        row = connection.execute(select(members.c.id, members.c.class_id, members.c.name)
                                 .where(members.c.class_id == klass.id, members.c.identity == identity)).first()
    return Member(*row) if row else None


def members_of(engine, klass: Class) -> list[Member]:
    """The class's members, in the order they joined."""
    with engine.connect() as connection:
        rows = connection.execute(select(members.c.id, members.c.class_id, members.c.name)
                                  .where(members.c.class_id == klass.id).order_by(members.c.id))
        return [Member(*row) for row in rows]


def classes_of(engine, identity: str | None, closed: bool = False) -> list[tuple[Class, Member]]:
    """The open classes `identity` has joined, with their membership; with `closed`, the closed ones too (their
    boards stay readable)."""
    if not identity:
        return []
    query = (select(*CLASS_COLUMNS, members.c.id, members.c.name).join(members, members.c.class_id == classes.c.id)
             .where(members.c.identity == identity).order_by(classes.c.id))
    if not closed:
        query = query.where(classes.c.closed.is_(False))
    with engine.connect() as connection:
        return [(Class(*row[:6]), Member(row[6], row[0], row[7])) for row in connection.execute(query)]


def name_taken(name: str, existing: str) -> Refused:
    says = "already goes by" if existing == name else "goes by a name that reads the same,"
    return Refused(f"Someone in this class {says} {existing}: choose another name.")


def join(engine, klass: Class, identity: str | None, name) -> Member:
    """`identity` joins `klass` as `name`. Refused: no identity, a closed or full class, a bad name, or one taken
    (by its keys: "Ada", "ada" and "Аda" with a Cyrillic А are one name, "Ian" and "lan" too), the refusal naming the member who has it.
    Joining again returns the existing membership (its name unchanged)."""
    if not identity:
        raise Refused("This browser has no identity yet: reload the page, then join.")
    name = check_display_name(name)
    name_key, name_look = names.key(name), names.look(name)
    taken = (members.c.name_key == name_key) | (members.c.name_look == name_look)
    try:
        with engine.begin() as connection:
            current = connection.execute(select(*CLASS_COLUMNS).where(classes.c.id == klass.id)).first()
            if current is None or Class(*current).closed:
                raise Refused("This class is closed: it takes no new members.")
            existing = connection.execute(select(members.c.id, members.c.class_id, members.c.name).where(
                members.c.class_id == klass.id, members.c.identity == identity)).first()
            if existing:
                return Member(*existing)
            size = connection.execute(select(func.count()).select_from(members).where(members.c.class_id == klass.id))
            if size.scalar_one() >= MAX_CLASS_SIZE:
                raise Refused(f"This class has {MAX_CLASS_SIZE} members, its most.")
            holder = connection.execute(select(members.c.name).where(
                members.c.class_id == klass.id, taken).limit(1)).scalar_one_or_none()
            if holder is not None:
                raise name_taken(name, holder)
            member_id = connection.execute(insert(members).values(
                class_id=klass.id, identity=identity, name=name, name_key=name_key, name_look=name_look,
                joined=time.time())
                .returning(members.c.id)).scalar_one()
    except IntegrityError:  # another join took the name (or this identity joined) since the checks above
        again = membership(engine, klass, identity)
        if again is not None:
            return again
        with engine.connect() as connection:
            holder = connection.execute(select(members.c.name).where(
                members.c.class_id == klass.id, taken).limit(1)).scalar_one_or_none()
        raise name_taken(name, holder or name) from None
    return Member(member_id, klass.id, name)


def submittable(connection, klass: Class, identity: str | None, model_id: int) -> int:
    """The member id under which `identity` may submit model `model_id` to `klass` now, in `connection`'s
    transaction. Refused: a closed or frozen class, not a member, a model that is not theirs or no longer exists."""
    current = connection.execute(select(*CLASS_COLUMNS).where(classes.c.id == klass.id)).first()
    if current is None or Class(*current).closed:
        raise Refused("This class is closed: it takes no more submissions. Nothing was submitted.")
    if Class(*current).frozen:
        raise Refused("The teacher has frozen submissions for now: nothing was submitted. Submit again when they "
                      "resume.")
    member_id = connection.execute(select(members.c.id).where(
        members.c.class_id == klass.id, members.c.identity == identity)).scalar_one_or_none() if identity else None
    if member_id is None:
        raise Refused("Join the class before submitting to it.")
    owner = connection.execute(select(models.c.owner).where(models.c.id == model_id)).scalar_one_or_none()
    if owner is None:
        raise Refused("That model no longer exists (deleted in another tab?): save it again, then submit it.")
    if owner != identity:
        raise Refused("Only your own models can be submitted.")
    return member_id


def submit(engine, klass: Class, identity: str | None, model_id: int, figures: dict, pictures: bytes) -> int:
    """Put `identity`'s model `model_id` on the class's board with the figures the server measured; returns the
    entry's id. Refused: as `submittable`, one already on the board, too many entries. Either the whole entry is
    written or nothing is."""
    row = {key: figures.get(key) for key in FIGURES}
    try:
        with engine.begin() as connection:
            member_id = submittable(connection, klass, identity, model_id)
            count = connection.execute(select(func.count()).select_from(submissions).where(
                submissions.c.class_id == klass.id, submissions.c.member_id == member_id))
            if count.scalar_one() >= MAX_SUBMISSIONS_PER_MEMBER:
                raise Refused(f"You have {MAX_SUBMISSIONS_PER_MEMBER} entries on this board, the most.")
            return connection.execute(insert(submissions).values(
                class_id=klass.id, member_id=member_id, model_id=model_id, hidden=False, created=time.time(),
                pictures=pictures, figures=json.dumps(figures), **row).returning(submissions.c.id)).scalar_one()
    except IntegrityError:
        raise Refused("This model is on the board already.") from None


BOARD_COLUMNS = (submissions.c.id, members.c.name, models.c.name, submissions.c.hidden, submissions.c.created,
                 *(submissions.c[key] for key in FIGURES), submissions.c.member_id, models.c.sha256)


def board(engine, klass: Class, with_hidden: bool = False) -> list[dict]:
    """The class's entries, oldest first: entry id, student, model, hidden, created, the measured figures, and
    `copy_of`: the earliest other member's entry whose checkpoint is byte for byte the same (the same SHA-256: a file
    downloaded, uploaded again and submitted), as "#entry student", else None."""
    query = (select(*BOARD_COLUMNS).join(members, members.c.id == submissions.c.member_id)
             .join(models, models.c.id == submissions.c.model_id).where(submissions.c.class_id == klass.id)
             .order_by(submissions.c.id))
    keys = ("entry", "student", "model", "hidden", "created", *FIGURES)
    with engine.connect() as connection:
        found = connection.execute(query).all()
    rows, earlier = [], {}
    for *values, member_id, sha256 in found:
        row = dict(zip(keys, values))
        first = next(((entry, student) for entry, student, member in earlier.get(sha256, []) if member != member_id),
                     None)
        row["copy_of"] = f"#{first[0]} {first[1]}" if first else None
        earlier.setdefault(sha256, []).append((row["entry"], row["student"], member_id))
        if with_hidden or not row["hidden"]:
            rows.append(row)
    return rows


def pictures(engine, klass: Class, entry: int) -> bytes | None:
    with engine.connect() as connection:
        return connection.execute(select(submissions.c.pictures).where(
            submissions.c.id == entry, submissions.c.class_id == klass.id)).scalar_one_or_none()


def board_stamp(engine, klass: Class) -> tuple:
    """A cheap summary that changes whenever the board does (entries, hidden ones, the class's state)."""
    with engine.connect() as connection:
        entries = connection.execute(select(func.count(), func.max(submissions.c.id),
                                            func.sum(cast(submissions.c.hidden, Integer))).where(
            submissions.c.class_id == klass.id)).first()
        state = connection.execute(select(classes.c.frozen, classes.c.closed).where(classes.c.id == klass.id)).first()
    return tuple(entries) + tuple(state or ())


def _teacher_update(engine, klass: Class, identity, values: dict, table=classes, where=None) -> None:
    if not teaches(engine, klass, identity):
        raise Refused("Only the class's teacher can do that.")
    with engine.begin() as connection:
        connection.execute(update(table).where(*(where if where is not None else [classes.c.id == klass.id]))
                           .values(**values))


def set_frozen(engine, klass: Class, identity, frozen: bool) -> None:
    """The teacher stops (or resumes) submissions."""
    _teacher_update(engine, klass, identity, {"frozen": frozen})


def close(engine, klass: Class, identity) -> None:
    """The teacher closes the class: no joins, no submissions; the board stays readable."""
    _teacher_update(engine, klass, identity, {"closed": True, "frozen": True})


def set_hidden(engine, klass: Class, identity, entry: int, hidden: bool) -> None:
    """The teacher hides (or shows again) one entry of the board."""
    _teacher_update(engine, klass, identity, {"hidden": hidden}, submissions,
                    [submissions.c.id == entry, submissions.c.class_id == klass.id])
