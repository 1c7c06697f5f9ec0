"""The eleven steps of the path, in the tutorial's order, one module each: its view, its question and its answer.
Every number in an equation comes from the vae/ function that owns it; every answer is computed from the model at
hand."""
from ui.learn.steps import (
    decoder,
    decomposition,
    definition,
    evidence,
    gaps,
    generation,
    kl,
    model,
    rate,
    sampling,
    training,
)

STEPS = [module.STEP for module in (model, definition, evidence, gaps, decomposition, decoder, sampling, kl, training,
                                    generation, rate)]
QUESTIONS = {step.question.key: step.question for step in STEPS}
