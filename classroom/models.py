"""Saved models, each its owner's: listed as theirs to them alone, deleted by them alone, never overwritten.

A name is unique on the server (links name models: `?model=NAME`): a taken name is refused with a free one
offered. The default name says what the model is and ends in a short random suffix, so two students saving
with the default name never meet.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from . import Refused
from .db import members, models, submissions, teachers

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_MODELS_PER_OWNER = 20
MAX_MODEL_BYTES = 64 * 2**20
SUFFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
DATASET_SHORT = {"mnist": "mnist", "fashion-mnist": "fashion"}


@dataclass(frozen=True)
class SavedModel:
    id: int
    name: str
    owner: str
    dataset: str
    sha256: str
    size: int
    created: float


COLUMNS = (models.c.id, models.c.name, models.c.owner, models.c.dataset, models.c.sha256, models.c.size,
           models.c.created)


def suffix(length: int = 4) -> str:
    return "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(length))


def default_name(config, engine=None) -> str:
    """What the model is, then a random suffix: fashion-16d-sigma0.3-k7q2, mnist-2d-bernoulli-beta4-x9ab; drawn
    again while the name is taken on `engine`'s store, so two students' default names never meet there."""
    parts = [DATASET_SHORT.get(config.dataset, config.dataset), f"{config.latent_dim}d",
             f"sigma{config.sigma_dec:g}" if config.likelihood == "gaussian" else "bernoulli"]
    if config.beta != 1:
        parts.append(f"beta{config.beta:g}")
    while True:
        name = "-".join(parts + [suffix()])
        if engine is None or find(engine, name) is None:
            return name


def check_name(name) -> str:
    """The name, stripped, or Refused saying what a name may hold."""
    name = name.strip().removesuffix(".safetensors") if isinstance(name, str) else ""
    if not NAME_PATTERN.match(name):
        shown = repr(name[:40] + ("…" if len(name) > 40 else ""))
        raise Refused("A model's name uses 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit; "
                      f"got {shown}.")
    return name


def taken(name: str) -> Refused:
    return Refused(f"The name {name} is taken; choose another, e.g. {name[:59]}-{suffix()}.")


def free_name(engine, name, reserved=()) -> str:
    """The name, stripped, if a model may be saved under it now; Refused as `save` would refuse it (a bad name, a
    shipped model's, one taken). Asked before slow work (scoring a model) so that nobody waits to hear it; `save`
    asks again, as another may take the name meanwhile."""
    name = check_name(name)
    if name in set(reserved):
        raise Refused(f"{name} is the name of a shipped model; choose another, e.g. {name}-{suffix()}.")
    if find(engine, name) is not None:
        raise taken(name)
    return name


def save(engine, owner: str, name: str, data: bytes, dataset: str, reserved=(), measure: bool = False) -> SavedModel:
    """Keep checkpoint `data` as `owner`'s model `name`, with its measurement queued when `measure` (in the same
    transaction: classroom.scoring). Refused: no identity, a bad or taken name (a free one is offered), a name in
    `reserved` (shipped models), too many models, too large a file."""
    if not owner:
        raise Refused("This browser has no identity yet, so the model cannot be kept as yours. Reload the page.")
    name = free_name(engine, name, reserved)
    if len(data) > MAX_MODEL_BYTES:
        raise Refused(f"The file is {len(data) / 2**20:.1f} MiB; models are limited to {MAX_MODEL_BYTES // 2**20} MiB.")
    row = {"name": name, "owner": owner, "dataset": dataset, "sha256": hashlib.sha256(data).hexdigest(),
           "size": len(data), "data": data, "created": time.time()}
    try:
        with engine.begin() as connection:
            count = connection.execute(select(func.count()).select_from(models).where(models.c.owner == owner))
            if count.scalar_one() >= MAX_MODELS_PER_OWNER:
                raise Refused(f"You have {MAX_MODELS_PER_OWNER} saved models, the most one person may keep here: "
                              "delete one on the Models page first.")
            model_id = connection.execute(insert(models).values(**row).returning(models.c.id)).scalar_one()
            if measure:
                from .scoring import enqueue

                enqueue(connection, model_id, owner)
    except IntegrityError:
        raise taken(name) from None
    return SavedModel(model_id, name, owner, dataset, row["sha256"], row["size"], row["created"])


def mine(engine, owner: str | None) -> list[SavedModel]:
    """`owner`'s models, oldest first."""
    if not owner:
        return []
    with engine.connect() as connection:
        rows = connection.execute(select(*COLUMNS).where(models.c.owner == owner).order_by(models.c.id))
        return [SavedModel(*row) for row in rows]


def shared_with(engine, owner: str | None) -> list[SavedModel]:
    """Other people's models that `owner` may open: those submitted, and not hidden, to a class `owner` belongs to;
    all those submitted to a class `owner` teaches, hidden ones too (the teacher reviews what they hid)."""
    if not owner:
        return []
    mine_as_member = select(members.c.class_id).where(members.c.identity == owner)
    mine_as_teacher = select(teachers.c.class_id).where(teachers.c.identity == owner)
    query = (select(*COLUMNS).distinct().join(submissions, submissions.c.model_id == models.c.id)
             .where(models.c.owner != owner,
                    or_(submissions.c.class_id.in_(mine_as_teacher),
                        and_(submissions.c.hidden.is_(False), submissions.c.class_id.in_(mine_as_member))))
             .order_by(models.c.id))
    with engine.connect() as connection:
        return [SavedModel(*row) for row in connection.execute(query)]


def data(engine, model_id: int) -> bytes | None:
    """The checkpoint bytes of model `model_id` (None when it is gone)."""
    with engine.connect() as connection:
        return connection.execute(select(models.c.data).where(models.c.id == model_id)).scalar_one_or_none()


def find(engine, name: str) -> SavedModel | None:
    with engine.connect() as connection:
        row = connection.execute(select(*COLUMNS).where(models.c.name == name)).first()
        return SavedModel(*row) if row else None


def delete_mine(engine, owner: str | None, model_id: int) -> str:
    """Delete `owner`'s model `model_id` (and withdraw it from any class board); returns its name. Refused when
    it is not `owner`'s (or no longer exists): nobody deletes another's model."""
    with engine.begin() as connection:
        name = connection.execute(select(models.c.name).where(models.c.id == model_id, models.c.owner == owner)
                                  ).scalar_one_or_none() if owner else None
        if name is None:
            raise Refused("That model is not yours to delete (or it was deleted already).")
        connection.execute(delete(submissions).where(submissions.c.model_id == model_id))
        connection.execute(delete(models).where(models.c.id == model_id, models.c.owner == owner))
    return name
